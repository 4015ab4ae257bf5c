/**
 * ssh with the in-process client (`client: 'ssh2'`): no ssh process — the
 * connecting context's broker worker opens the connection with the ssh2
 * package and runs the same first stage over an exec channel. The options
 * are ssh's (SshOptions), turned into the command line the OpenSSH client
 * would get; the connecting side resolves the host with it and its ssh
 * config (src/ssh/ssh-config.ts). Of `sshArgs`, the options that make sense
 * without an ssh binary are understood (-l, -p, -i, -F, -J, -A, -a, -C and
 * -o for what ssh-config.ts acts on); any other is refused by name rather
 * than silently ignored.
 */
import type { LoginSpec, Ssh2Spec } from '../src/threads/bootstrap-types.js';
import { StreamError } from '../src/wire/errors.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { readSshOptions } from '../src/ssh/ssh-args.js';
import { shellQuote } from './shell-quote.js';
import { ssh, sshOptionArgs } from './ssh.js';
import type { SshOptions } from './ssh.js';
import type { Ssh2Transport } from './transport.js';

/** -o options the ssh2 client acts on, or that only shape the ssh binary's own behaviour. */
const UNDERSTOOD = new Set([
  'userknownhostsfile', 'globalknownhostsfile', 'stricthostkeychecking', 'identityfile', 'identitiesonly', 'identityagent',
  'port', 'user', 'hostname', 'compression', 'serveraliveinterval', 'serveralivecountmax', 'connecttimeout', 'proxyjump',
  'forwardagent', 'hostkeyalias', 'pubkeyauthentication', 'passwordauthentication', 'kbdinteractiveauthentication',
  'loglevel', 'batchmode', 'requesttty', 'controlmaster', 'controlpath', 'controlpersist',
]);
const FLAGS = new Set(['-l', '-p', '-i', '-F', '-J', '-A', '-a', '-C', '-o']);

/** Refuses, by name, what of sshArgs the ssh2 client cannot honour. */
function checkSshArgs(args: string[]): void {
  let read: ReturnType<typeof readSshOptions>;
  try { read = readSshOptions(args); } catch (e) { throw new StreamError(`sshArgs: ${(e as Error).message}`); }
  const extra = args.slice(read.next);
  if (extra.length) throw new StreamError(`sshArgs: ${extra[0]} is not supported by the ssh2 client (use client: 'openssh')`);
  for (const [flag, value] of read.options) {
    if (!FLAGS.has(flag)) throw new StreamError(`sshArgs: ${flag} is not supported by the ssh2 client (use client: 'openssh')`);
    if (flag !== '-o') continue;
    const m = /^\s*(\w+)\s*(?:=|\s)\s*(.*)$/.exec(value!);
    if (!m) throw new StreamError(`sshArgs: cannot read -o ${value}`);
    if (!UNDERSTOOD.has(m[1]!.toLowerCase())) throw new StreamError(`sshArgs: -o ${m[1]} is not supported by the ssh2 client (use client: 'openssh')`);
  }
}

export const ssh2: Ssh2Transport<SshOptions & { connectTimeout?: number }> = {
  method: 'ssh',
  kind: 'ssh2',
  defaultName: ssh.defaultName,
  // The same first stage OpenSSH would be given, for the login shell.
  command: (o, common) => shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName)),
  login(o, common): LoginSpec {
    // The client answers no prompts: auth happens in-process. The patterns
    // still classify what the session reports, in ssh's words.
    return { ...ssh.login!(o, common), tty: 'none', passwordPrompts: ['(?!)'], yesPrompts: [], refusePrompts: [] };
  },
  extra(o) {
    checkSshArgs(o.sshArgs ?? []);
    if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) throw new StreamError(`ssh2: bad port ${o.port}`);
    const spec: Omit<Ssh2Spec, 'command'> = {
      host: o.hostname,
      sshArgs: sshOptionArgs(o),
      sshPath: typeof o.sshPath === 'string' ? o.sshPath : undefined,
      password: o.password,
      passphrase: o.passphrase,
      checkHostKeys: o.checkHostKeys,
      connectTimeout: o.connectTimeout ?? 30,
      debug: (o.sshDebugLevel ?? 0) > 0,
    };
    return { ssh2: spec };
  },
};
