/**
 * ssh with the in-process client (`client: 'ssh2'`): no ssh process — the
 * connecting context's broker worker opens the connection with the ssh2
 * package and runs the same first stage over an exec channel. The options
 * are ssh's (SshOptions); of `sshArgs`, the options that make sense without
 * an ssh binary are understood (-l, -p, -i and -o for known hosts files,
 * host key checking, keepalives, compression, ConnectTimeout); any other is
 * refused by name rather than silently ignored.
 */
import type { LoginSpec, Ssh2Spec } from '../src/bootstrap-types.js';
import { StreamError } from '../src/errors.js';
import { firstStageArgv } from '../src/first-stage.js';
import { readSshOptions } from '../src/ssh-args.js';
import { shellQuote } from './shell-quote.js';
import { ssh } from './ssh.js';
import type { SshOptions } from './ssh.js';
import type { Transport } from './transport.js';

/** -o options ssh2 has no use for: they shape the ssh binary's own behaviour. */
const HARMLESS = new Set(['loglevel', 'batchmode', 'requesttty', 'controlmaster', 'controlpath', 'controlpersist']);

function yes(v: string): boolean {
  return /^(yes|true|on)$/i.test(v);
}

/** Applies sshArgs (-l, -p, -i, -o K=V / -o 'K V'), read as ssh reads options; anything else throws, naming it. */
function applySshArgs(spec: Ssh2Spec, args: string[]): void {
  let read: ReturnType<typeof readSshOptions>;
  try { read = readSshOptions(args); } catch (e) { throw new StreamError(`sshArgs: ${(e as Error).message}`); }
  const extra = args.slice(read.next);
  if (extra.length) throw new StreamError(`sshArgs: ${extra[0]} is not supported by the ssh2 client (use client: 'openssh')`);
  for (const [flag, value] of read.options) {
    if (flag === '-l') spec.username = value!;
    else if (flag === '-p') spec.port = Number(value);
    else if (flag === '-i') spec.identityFiles.push(value!);
    else if (flag === '-o') applyOption(spec, value!);
    else throw new StreamError(`sshArgs: ${flag} is not supported by the ssh2 client (use client: 'openssh')`);
  }
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) throw new StreamError(`ssh2: bad port ${spec.port}`);
}

/** One `-o Key=Value` (or `-o 'Key Value'`). */
function applyOption(spec: Ssh2Spec, kv: string): void {
  const m = /^\s*(\w+)\s*(?:=|\s)\s*(.*)$/.exec(kv);
  if (!m) throw new StreamError(`sshArgs: cannot read -o ${kv}`);
  const [, key, value] = m as unknown as [string, string, string];
  switch (key.toLowerCase()) {
    case 'userknownhostsfile': spec.userKnownHosts = value.split(/\s+/); break;
    case 'globalknownhostsfile': spec.globalKnownHosts = value.split(/\s+/); break;
    case 'stricthostkeychecking':
      spec.checkHostKeys = yes(value) ? 'enforce' : /^(no|off)$/i.test(value) ? 'ignore' : 'accept';
      break;
    case 'identityfile': spec.identityFiles.push(value); break;
    case 'identitiesonly': spec.identitiesOnly = yes(value); break;
    case 'port': spec.port = Number(value); break;
    case 'user': spec.username = value; break;
    case 'compression': spec.compression = yes(value); break;
    case 'serveraliveinterval': spec.keepaliveInterval = Number(value); break;
    case 'serveralivecountmax': spec.keepaliveCount = Number(value); break;
    case 'connecttimeout': spec.connectTimeout = Math.min(spec.connectTimeout, Number(value)); break;
    default:
      if (!HARMLESS.has(key.toLowerCase())) throw new StreamError(`sshArgs: -o ${key} is not supported by the ssh2 client (use client: 'openssh')`);
  }
}

export const ssh2: Transport<SshOptions & { connectTimeout?: number }> = {
  method: 'ssh',
  defaultName: ssh.defaultName,
  // What runs remotely: the same first stage OpenSSH would be given, for the login shell.
  argv: (o, common) => ['ssh2', o.hostname, shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName))],
  login(o, common): LoginSpec {
    // The client answers no prompts: auth happens in-process. The patterns
    // still classify what the session reports, in ssh's words.
    return { ...ssh.login!(o, common), tty: 'none', passwordPrompts: ['(?!)'], yesPrompts: [], refusePrompts: [] };
  },
  extra(o) {
    const check = o.checkHostKeys ?? 'enforce';
    const spec: Ssh2Spec = {
      host: o.hostname,
      port: o.port ?? 22,
      username: o.username,
      password: o.password,
      identityFiles: o.identityFile ? [o.identityFile] : [],
      identitiesOnly: o.identitiesOnly ?? true,
      checkHostKeys: check,
      userKnownHosts: ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'],
      globalKnownHosts: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      compression: o.compression ?? true,
      keepaliveInterval: o.keepaliveInterval ?? 30,
      keepaliveCount: o.keepaliveCount ?? 10,
      connectTimeout: o.connectTimeout ?? 30,
      debug: (o.sshDebugLevel ?? 0) > 0,
    };
    applySshArgs(spec, o.sshArgs ?? []);
    // 'ignore' wins over files named in sshArgs, as it does for OpenSSH's argv.
    if (o.checkHostKeys === 'ignore') spec.checkHostKeys = 'ignore';
    return { ssh2: spec };
  },
};
