/**
 * ssh with the OpenSSH client: `ssh [options] HOST <node and its first stage,
 * shell-quoted for the login shell>`, argv as Mitogen builds it. With no
 * password and no host-key question to answer it runs with BatchMode and no
 * terminal; otherwise ssh gets our PTY as its controlling terminal (where it
 * prompts) while the session itself stays on pipes.
 */
import type { LoginSpec } from '../src/threads/bootstrap-types.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { shellQuote } from './shell-quote.js';
import type { Transport } from './transport.js';

export interface SshOptions {
  hostname: string;
  username?: string;
  port?: number;
  sshPath?: string | string[];
  /** Extra ssh arguments, placed before the host name. */
  sshArgs?: string[];
  /** 'enforce' (default): unknown or changed keys fail; 'accept': unknown keys are added; 'ignore': no checks. */
  checkHostKeys?: 'enforce' | 'accept' | 'ignore';
  password?: string;
  identityFile?: string;
  /** Offer only the given identity (default true, when an identity file or password is given). */
  identitiesOnly?: boolean;
  /** Default true; null leaves it to the ssh config (ssh's default: no). */
  compression?: boolean | null;
  /** 1-3: ssh -v..-vvv, its lines forwarded as log records. */
  sshDebugLevel?: number;
  /**
   * Seconds between keepalives (default 30; 0 disables), and how many may go
   * unanswered (default 10); null leaves them to the ssh config.
   */
  keepaliveInterval?: number | null;
  keepaliveCount?: number | null;
  /** The ssh client configuration to read instead of ~/.ssh/config and /etc/ssh/ssh_config (ssh -F). */
  sshConfigFile?: string;
  /** The ssh agent's socket, or false for none (default: the config's IdentityAgent, else $SSH_AUTH_SOCK). */
  agent?: string | false;
  /** Forward the agent to the remote side (ssh -A); default: the config's ForwardAgent. */
  agentForward?: boolean;
  /** The passphrase of an encrypted identity file. */
  passphrase?: string;
  nodePath?: string | string[];
  /** 'openssh' (default) or 'ssh2' (in-process). */
  client?: 'openssh' | 'ssh2';
}

function needsTty(o: SshOptions): boolean {
  return o.password !== undefined || o.passphrase !== undefined || o.checkHostKeys === 'accept';
}

/**
 * ssh's options for these SshOptions (no ssh path, verbosity, BatchMode or
 * host): what the OpenSSH client is given, and what the ssh2 client asks
 * `ssh -G` with, so both resolve a host's configuration alike. On ssh's
 * command line they win over the config files.
 */
export function sshOptionArgs(o: SshOptions): string[] {
  const bits: string[] = [];
  if (o.sshConfigFile !== undefined) bits.push('-F', o.sshConfigFile);
  if (o.username) bits.push('-l', o.username);
  if (o.port !== undefined) bits.push('-p', String(o.port));
  if (o.identitiesOnly === false) bits.push('-o', 'IdentitiesOnly no');
  else if ((o.identitiesOnly ?? true) && (o.identityFile || o.password !== undefined)) bits.push('-o', 'IdentitiesOnly yes');
  if (o.identityFile) bits.push('-i', o.identityFile);
  if (o.agent !== undefined) bits.push('-o', `IdentityAgent ${o.agent === false ? 'none' : o.agent}`);
  if (o.agentForward !== undefined) bits.push('-o', `ForwardAgent ${o.agentForward ? 'yes' : 'no'}`);
  if (o.compression !== null) bits.push('-o', `Compression ${o.compression ?? true ? 'yes' : 'no'}`);
  if (o.keepaliveInterval !== null) bits.push('-o', `ServerAliveInterval ${o.keepaliveInterval ?? 30}`);
  if (o.keepaliveCount !== null) bits.push('-o', `ServerAliveCountMax ${o.keepaliveCount ?? 10}`);
  // Unless asked, host keys are checked as the config says (ssh's default, ask, refuses in BatchMode).
  if (o.checkHostKeys === 'enforce') bits.push('-o', 'StrictHostKeyChecking yes');
  else if (o.checkHostKeys === 'accept') bits.push('-o', 'StrictHostKeyChecking ask');
  else if (o.checkHostKeys === 'ignore') bits.push('-o', 'StrictHostKeyChecking no', '-o', 'UserKnownHostsFile /dev/null', '-o', 'GlobalKnownHostsFile /dev/null');
  if (o.sshArgs) bits.push(...o.sshArgs);
  return bits;
}

export const ssh: Transport<SshOptions> = {
  method: 'ssh',
  // As Mitogen's _get_name: the port only when it is not 22.
  defaultName: (o) => `ssh.${o.hostname}${o.port !== undefined && o.port !== 22 ? `:${o.port}` : ''}`,
  argv(o, common) {
    const bits = [...(typeof o.sshPath === 'object' ? o.sshPath : [o.sshPath ?? 'ssh'])];
    // Without -v, LogLevel ERROR keeps a login banner (which may mention "password") quiet.
    if (o.sshDebugLevel) bits.push(`-${'v'.repeat(Math.min(3, o.sshDebugLevel))}`);
    else bits.push('-o', 'LogLevel ERROR');
    if (!needsTty(o)) bits.push('-o', 'BatchMode yes');
    bits.push(...sshOptionArgs(o), o.hostname);
    // The remote side runs it through the login shell: quote every word.
    return [...bits, shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName))];
  },
  login(o): LoginSpec {
    const peer = `${o.username ? `${o.username}@` : ''}${o.hostname}${o.port !== undefined ? `:${o.port}` : ''}`;
    return {
      method: 'ssh',
      peer,
      // Without a password, the passphrase is typed where ssh asks for the key's.
      password: o.password ?? o.passphrase,
      tty: needsTty(o) ? 'required' : 'none',
      passwordPrompts: o.password === undefined && o.passphrase !== undefined ? ['enter passphrase for key'] : ['password'],
      incorrect: ['permission denied'],
      yesPrompts: o.checkHostKeys === 'accept' ? ['are you sure you want to continue connecting \\(yes/no'] : [],
      refusePrompts: ['are you sure you want to continue connecting \\(yes/no'],
      hostKeyFailures: ['host key verification failed', 'remote host identification has changed', 'no \\S+ host key is known for'],
      interpreter: typeof o.nodePath === 'object' ? o.nodePath.join(' ') : o.nodePath ?? 'node',
      // What login shells say when the interpreter is not there (bash, dash, zsh, fish).
      // "No such file" only about the interpreter itself: a login script's own
      // failing rm or ls says it too, and node may well be there.
      interpreterMissing: ['(node|: )[^:]*: (command )?not found', `${escapeRegExp(interpreterPath(o.nodePath))}: no such file or directory$`, 'unknown command: ?node'],
      streamFailures: ['^ssh: connect to host .*: ', '^ssh: could not resolve hostname', 'connection timed out during banner exchange', '^kex_exchange_identification'],
    };
  },
};

/** The interpreter's own path: the first word of nodePath. */
function interpreterPath(nodePath: string | string[] | undefined): string {
  return (typeof nodePath === 'object' ? nodePath[0] : nodePath) ?? 'node';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
