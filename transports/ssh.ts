/**
 * ssh with the OpenSSH client: `ssh [options] HOST <node and its first stage,
 * shell-quoted for the login shell>`, argv as Mitogen builds it. With no
 * password and no host-key question to answer it runs with BatchMode and no
 * terminal; otherwise ssh gets our PTY as its controlling terminal (where it
 * prompts) while the session itself stays on pipes.
 */
import type { LoginSpec } from '../src/bootstrap-types.js';
import { firstStageArgv } from '../src/first-stage.js';
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
  /** Default true. */
  compression?: boolean;
  /** 1-3: ssh -v..-vvv, its lines forwarded as log records. */
  sshDebugLevel?: number;
  /** Seconds between keepalives (default 30; 0 disables), and how many may go unanswered (default 10). */
  keepaliveInterval?: number;
  keepaliveCount?: number;
  nodePath?: string | string[];
  /** 'openssh' (default) or 'ssh2' (in-process; not built yet). */
  client?: 'openssh' | 'ssh2';
}

function needsTty(o: SshOptions): boolean {
  return o.password !== undefined || o.checkHostKeys === 'accept';
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
    if (o.username) bits.push('-l', o.username);
    if (o.port !== undefined) bits.push('-p', String(o.port));
    if ((o.identitiesOnly ?? true) && (o.identityFile || o.password !== undefined)) bits.push('-o', 'IdentitiesOnly yes');
    if (o.identityFile) bits.push('-i', o.identityFile);
    if (o.compression ?? true) bits.push('-o', 'Compression yes');
    const interval = o.keepaliveInterval ?? 30;
    if (interval > 0) bits.push('-o', `ServerAliveInterval ${interval}`, '-o', `ServerAliveCountMax ${o.keepaliveCount ?? 10}`);
    if (!needsTty(o)) bits.push('-o', 'BatchMode yes');
    const check = o.checkHostKeys ?? 'enforce';
    if (check === 'enforce') bits.push('-o', 'StrictHostKeyChecking yes');
    else if (check === 'accept') bits.push('-o', 'StrictHostKeyChecking ask');
    else bits.push('-o', 'StrictHostKeyChecking no', '-o', 'UserKnownHostsFile /dev/null', '-o', 'GlobalKnownHostsFile /dev/null');
    if (o.sshArgs) bits.push(...o.sshArgs);
    bits.push(o.hostname);
    // The remote side runs it through the login shell: quote every word.
    return [...bits, shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName))];
  },
  login(o): LoginSpec {
    const peer = `${o.username ? `${o.username}@` : ''}${o.hostname}${o.port !== undefined ? `:${o.port}` : ''}`;
    return {
      method: 'ssh',
      peer,
      password: o.password,
      tty: needsTty(o) ? 'required' : 'none',
      passwordPrompts: ['password'],
      incorrect: ['permission denied'],
      yesPrompts: o.checkHostKeys === 'accept' ? ['are you sure you want to continue connecting \\(yes/no'] : [],
      refusePrompts: ['are you sure you want to continue connecting \\(yes/no'],
      hostKeyFailures: ['host key verification failed', 'remote host identification has changed', 'no \\S+ host key is known for'],
      interpreter: typeof o.nodePath === 'object' ? o.nodePath.join(' ') : o.nodePath ?? 'node',
      // What login shells say when the interpreter is not there (bash, dash, zsh, fish).
      interpreterMissing: ['(node|: )[^:]*: (command )?not found', 'no such file or directory$', 'unknown command: ?node'],
      streamFailures: ['^ssh: connect to host .*: ', '^ssh: could not resolve hostname', 'connection timed out during banner exchange', '^kex_exchange_identification'],
    };
  },
};
