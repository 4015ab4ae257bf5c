/**
 * What OpenSSH's configuration says for one host, for the in-process ssh2
 * client: asked of `ssh -G` with the same command-line options the OpenSSH
 * client would be given, so both clients resolve a host alike (Include,
 * Match, Host patterns, first-value-wins, the system file: ssh's own
 * answer). Without an ssh binary, ssh-config-parser.ts reads the files.
 *
 * Keywords the files set that the ssh2 client does not act on are listed in
 * `unhonoured` (the caller logs them by name); ProxyCommand is an error.
 */
import { lazyChildProcess, lazyCrypto } from '../threads/lazy-builtins.js';
import os from 'node:os';
import { join } from 'node:path';
import { StreamError } from '../wire/errors.js';
import { readSshConfigFiles } from './ssh-config-parser.js';
import type { SshSettings } from './ssh-config-parser.js';

/** One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpHost { user?: string; host: string; port?: number }

export interface SshHostConfig {
  /** The name asked for (ssh's %n). */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  /** Expanded (tokens, ~), in the order ssh tries them. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** A socket path, 'none', or undefined for $SSH_AUTH_SOCK. */
  identityAgent?: string;
  proxyJump: JumpHost[];
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  hostKeyAlias?: string;
  strictHostKeyChecking: 'yes' | 'ask' | 'accept-new' | 'no';
  serverAliveInterval: number;
  serverAliveCountMax: number;
  /** Seconds; undefined when none is set. */
  connectTimeout?: number;
  compression: boolean;
  /** ForwardAgent: yes, or a socket path to forward. */
  forwardAgent: boolean | string;
  /** Which methods may be tried (PubkeyAuthentication, PasswordAuthentication, KbdInteractiveAuthentication). */
  methods: { publickey: boolean; password: boolean; keyboardInteractive: boolean };
  /** Keywords (lower case) the files set that the ssh2 client does not act on. */
  unhonoured: string[];
}

/** Keywords the ssh2 client acts on, or that only shape the ssh binary itself. */
const HONOURED = new Set([
  'host', 'hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'identityagent', 'proxyjump',
  'userknownhostsfile', 'globalknownhostsfile', 'hostkeyalias', 'stricthostkeychecking',
  'serveraliveinterval', 'serveralivecountmax', 'connecttimeout', 'compression', 'forwardagent',
  'pubkeyauthentication', 'passwordauthentication', 'kbdinteractiveauthentication',
  'loglevel', 'batchmode', 'requesttty', 'controlmaster', 'controlpath', 'controlpersist', 'proxycommand',
  // ssh turns it off by itself when UserKnownHostsFile is set; it only adds keys a server offers after login.
  'updatehostkeys',
]);

export type { SshSettings } from './ssh-config-parser.js';

export interface ResolveOptions {
  /** The ssh binary to ask (default `ssh` on PATH). */
  ssh?: string;
  /** Upper bound on one `ssh -G` run, in ms (Match exec may run commands). */
  timeoutMs?: number;
  /** Work out `unhonoured` (default true): one more `ssh -G`, with `-F /dev/null`, for ssh's defaults. */
  unhonoured?: boolean;
}

/**
 * The configuration for `host` given ssh's command-line `args` (-F, -l, -p,
 * -i, -o: they win over the files, as they do for ssh).
 */
export async function resolveSshConfig(host: string, args: string[], opts: ResolveOptions = {}): Promise<SshHostConfig> {
  const ssh = opts.ssh ?? 'ssh';
  const bare = withoutConfigFile(args);
  let withFiles: SshSettings;
  let defaults: SshSettings | undefined;
  try {
    [withFiles, defaults] = await Promise.all([
      askSsh(ssh, [...args, host], opts.timeoutMs),
      opts.unhonoured === false ? undefined : askSsh(ssh, ['-F', '/dev/null', ...bare, host], opts.timeoutMs),
    ]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    ({ withFiles, defaults } = readSshConfigFiles(host, args));
  }
  return fromSettings(host, withFiles, opts.unhonoured === false ? undefined : defaults);
}

/**
 * Times `ssh -G` is run when it prints nothing at all: seen under load, with
 * status 0 and nothing on stderr either (its stdio gone before it wrote;
 * run again at once it answers).
 */
const SILENT_RETRIES = 3;

/** Runs `ssh -G` and reads what it prints (it always prints a `hostname` line). */
async function askSsh(ssh: string, args: string[], timeoutMs = 10_000): Promise<SshSettings> {
  for (let attempt = 1; ; attempt++) {
    const out = await runSshG(ssh, args, timeoutMs);
    if (/^hostname /m.test(out)) return parseSettings(out);
    if (attempt >= SILENT_RETRIES) throw new StreamError(`ssh config for ${args[args.length - 1]}: ${ssh} -G printed nothing (${attempt} tries)`);
  }
}

function runSshG(ssh: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    lazyChildProcess().execFile(ssh, ['-G', ...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') { reject(err); return; }
      if (err) {
        const said = stderr.trim().split('\n').filter((l) => !/^Pseudo-terminal/.test(l)).join('; ');
        reject(new StreamError(`ssh config for ${args[args.length - 1]}: ${said || err.message}`));
        return;
      }
      resolve(stdout);
    });
  });
}

export function parseSettings(text: string): SshSettings {
  const out: SshSettings = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const list = out.get(key) ?? [];
    list.push(m[2]!);
    out.set(key, list);
  }
  return out;
}

/** The command line without -F, for the run that shows ssh's built-in defaults. */
function withoutConfigFile(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-F') { i++; continue; }
    if (args[i]!.startsWith('-F')) continue;
    out.push(args[i]!);
  }
  return out;
}

function fromSettings(alias: string, s: SshSettings, defaults: SshSettings | undefined): SshHostConfig {
  const one = (k: string, fallback = ''): string => s.get(k)?.[0] ?? fallback;
  const yes = (k: string): boolean => /^(yes|true)$/i.test(one(k));
  // Unset means allowed; PubkeyAuthentication also takes unbound and host-bound.
  const allowed = (k: string): boolean => !/^(no|false)$/i.test(one(k, 'yes'));
  const proxyCommand = one('proxycommand', 'none');
  if (proxyCommand !== 'none') throw new StreamError(`ssh config for ${alias}: ProxyCommand is not supported by the ssh2 client (use ProxyJump, or client: 'openssh')`);
  const hostname = one('hostname', alias);
  const port = Number(one('port', '22'));
  const user = one('user', os.userInfo().username);
  const jump = one('proxyjump', 'none');
  const tokens = tokenValues({ alias, hostname, port, user, jump: jump === 'none' ? '' : jump, hostKeyAlias: s.get('hostkeyalias')?.[0] });
  const agent = s.get('identityagent')?.[0];
  const timeout = one('connecttimeout', 'none');
  const forward = one('forwardagent', 'no');
  return {
    alias,
    hostname,
    port,
    user,
    identityFiles: (s.get('identityfile') ?? []).map((f) => expandTokens(f, tokens)),
    identitiesOnly: yes('identitiesonly'),
    identityAgent: agent === undefined || agent === 'SSH_AUTH_SOCK' ? undefined : agent === 'none' ? 'none' : socketPath(agent, tokens),
    proxyJump: jump === 'none' ? [] : jump.split(',').map((j) => parseJump(j, alias)),
    userKnownHostsFiles: one('userknownhostsfile', '~/.ssh/known_hosts ~/.ssh/known_hosts2').split(/\s+/).map((f) => expandTokens(f, tokens)),
    globalKnownHostsFiles: one('globalknownhostsfile', '/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2').split(/\s+/),
    hostKeyAlias: s.get('hostkeyalias')?.[0],
    strictHostKeyChecking: strictness(one('stricthostkeychecking', 'ask')),
    serverAliveInterval: Number(one('serveraliveinterval', '0')),
    serverAliveCountMax: Number(one('serveralivecountmax', '3')),
    connectTimeout: timeout === 'none' ? undefined : Number(timeout),
    compression: yes('compression'),
    forwardAgent: /^(yes|true)$/i.test(forward) ? true : /^(no|false)$/i.test(forward) ? false : socketPath(forward, tokens),
    methods: { publickey: allowed('pubkeyauthentication'), password: allowed('passwordauthentication'), keyboardInteractive: allowed('kbdinteractiveauthentication') },
    unhonoured: defaults ? unhonoured(s, defaults) : [],
  };
}

/** An agent socket as IdentityAgent and ForwardAgent name it: a path, or `$VAR` for the variable's value. */
function socketPath(value: string, tokens: Record<string, string>): string {
  return value.startsWith('$') ? process.env[value.slice(1)] ?? 'none' : expandTokens(value, tokens);
}

/** StrictHostKeyChecking in its file spelling (`ssh -G` prints yes as true, no and off as false). */
function strictness(value: string): SshHostConfig['strictHostKeyChecking'] {
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return 'yes';
  if (v === 'no' || v === 'false' || v === 'off') return 'no';
  return v === 'accept-new' ? 'accept-new' : 'ask';
}

/** Keywords whose values the files changed from ssh's defaults, that we do not act on. */
function unhonoured(s: SshSettings, defaults: SshSettings): string[] {
  const out: string[] = [];
  for (const [key, values] of s) {
    if (HONOURED.has(key)) continue;
    const base = defaults.get(key) ?? [];
    if (values.length !== base.length || values.some((v, i) => v !== base[i])) out.push(key);
  }
  return out.sort();
}

/** `[user@]host[:port]`, `[user@][v6]:port`, or `ssh://[user@]host[:port]`. */
export function parseJump(spec: string, forHost: string): JumpHost {
  const m = /^(?:ssh:\/\/)?(?:([^@/]+)@)?(\[[^\]]+\]|[^:@/[\]]+)(?::(\d+))?\/?$/.exec(spec.trim());
  if (!m) throw new StreamError(`ssh config for ${forHost}: cannot read the ProxyJump host ${JSON.stringify(spec)}`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new StreamError(`ssh config for ${forHost}: bad ProxyJump port in ${JSON.stringify(spec)}`);
  return { user: m[1], host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port };
}

interface TokenSource { alias: string; hostname: string; port: number; user: string; jump: string; hostKeyAlias?: string }

function tokenValues(t: TokenSource): Record<string, string> {
  const me = os.userInfo();
  const local = os.hostname();
  return {
    '%': '%',
    d: me.homedir,
    h: t.hostname,
    i: String(me.uid),
    j: t.jump,
    k: t.hostKeyAlias ?? t.hostname,
    L: local.split('.')[0]!,
    l: local,
    n: t.alias,
    p: String(t.port),
    r: t.user,
    u: me.username,
    C: lazyCrypto().createHash('sha1').update(`${local}${t.hostname}${t.port}${t.user}${t.jump}`).digest('hex'),
  };
}

/** ssh's %-tokens and a leading ~ (the local user's home), as it expands IdentityFile. */
export function expandTokens(path: string, values: Record<string, string>): string {
  const expanded = path.replace(/%(.)/g, (all, c: string) => values[c] ?? all);
  return expanded === '~' || expanded.startsWith('~/') ? join(values.d!, expanded.slice(1)) : expanded;
}
