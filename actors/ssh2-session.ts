/**
 * Ssh2Session: the in-process ssh client (the ssh2 package) dressed as the
 * child process the ContextActor expects — stdin, stdout and stderr streams,
 * 'spawn', 'exit' and 'close' events — so the bootstrap, the stream and the
 * error classification are the same for both clients. No process is started:
 * the connection lives in this broker worker.
 *
 * Failures before the session starts are written to its stderr in OpenSSH's
 * own words ("Permission denied (publickey,password).", "Host key
 * verification failed.", "ssh: connect to host H port P: Connection
 * refused") followed by exit status 255, as ssh would; the transport's login
 * patterns turn them into PasswordError, HostKeyError and StreamError.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { AnyAuthMethod, AuthHandlerMiddleware, Client, ClientChannel, ConnectConfig, KeyboardInteractiveCallback, Prompt } from 'ssh2';
import type { Ssh2Spec } from '../src/bootstrap-types.js';
import { addHostKey, checkHostKey, hostKeyName, keyType } from './known-hosts.js';

/** ssh2 ends authentication when given false; its types leave that out. */
type NextAuth = (method: AnyAuthMethod | false) => void;

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** How to get ssh2's Client class here: the master's own copy, or one brought by module forwarding. */
export type Ssh2Loader = () => Promise<{ Client: new () => Client }>;

export class Ssh2Session extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid = undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private conn?: Client;
  private channel?: ClientChannel;
  private hostKeyProblem?: string;
  private methodsOffered: string[] = [];
  private ended = false;
  private readonly user: string;

  /** With `debug`, ssh2's own lines go to stderr as ssh -v's do (and are forwarded like them). */
  private readonly debug?: (line: string) => void;

  constructor(private readonly spec: Ssh2Spec, private readonly command: string, load: Ssh2Loader) {
    super();
    this.user = spec.username ?? os.userInfo().username;
    if (spec.debug) this.debug = (line) => { if (!this.stderr.writableEnded) this.stderr.write(`debug1: ${line}\n`); };
    process.nextTick(() => this.emit('spawn'));
    load().then((m) => this.connect(m.Client), (e: Error) => this.failWith(`ssh2: the ssh2 package could not be loaded here: ${e.message}`));
  }

  kill(): boolean {
    if (this.ended) return false;
    this.channel?.close();
    this.conn?.end();
    this.finish(null, 'SIGKILL');
    return true;
  }

  private connect(ClientClass: new () => Client): void {
    if (this.ended) return;
    const s = this.spec;
    const conn = this.conn = new ClientClass();
    conn.on('ready', () => {
      conn.exec(this.command, (err, channel) => {
        if (err) { this.failWith(`ssh2: exec on ${s.host} refused: ${err.message}`); return; }
        this.channel = channel;
        this.stdin.pipe(channel);
        channel.pipe(this.stdout);
        channel.stderr.pipe(this.stderr);
        let status: [number | null, NodeJS.Signals | null] = [null, null];
        channel.on('exit', (code: number | null, signal?: string) => { status = [code, signal ? (`SIG${signal}` as NodeJS.Signals) : null]; });
        channel.on('close', () => { conn.end(); this.finish(...status); });
      });
    });
    conn.on('error', (e: Error & { level?: string; code?: string }) => this.failWith(this.describe(e)));
    conn.on('close', () => { if (!this.channel) this.failWith(`ssh: connection to ${s.host} closed during the handshake`); });
    const config: ConnectConfig = {
      host: s.host,
      port: s.port,
      username: this.user,
      readyTimeout: s.connectTimeout * 1000,
      keepaliveInterval: s.keepaliveInterval * 1000,
      keepaliveCountMax: s.keepaliveCount,
      algorithms: { compress: s.compression ? ['zlib@openssh.com', 'zlib', 'none'] : ['none'] },
      hostVerifier: (blob: Buffer) => this.verifyHostKey(blob),
      authHandler: this.authHandler(),
      debug: this.debug,
    };
    conn.connect(config);
  }

  /** none (to learn the server's methods), then keys, then password, then keyboard-interactive — as ssh orders them. */
  private authHandler(): AuthHandlerMiddleware {
    const s = this.spec;
    const queue: AnyAuthMethod[] = [{ type: 'none', username: this.user }];
    for (const file of this.keyFiles()) {
      let key: Buffer;
      try { key = readFileSync(file); } catch (e) { this.debug?.(`ssh2: identity file ${file} not readable: ${(e as Error).message}`); continue; }
      queue.push({ type: 'publickey', username: this.user, key });
    }
    if (s.password !== undefined) {
      queue.push({ type: 'password', username: this.user, password: s.password });
      const answer = (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void => finish(prompts.map(() => s.password!));
      queue.push({ type: 'keyboard-interactive', username: this.user, prompt: answer });
    } else {
      // With no password, keyboard-interactive can only fail: ssh in BatchMode does not try it either.
    }
    return (methodsLeft, _partial, nextAuth) => {
      const next = nextAuth as NextAuth;
      if (methodsLeft) this.methodsOffered = methodsLeft;
      while (queue.length) {
        const m = queue.shift()!;
        if (m.type === 'none' || !methodsLeft || methodsLeft.includes(m.type)) { next(m); return; }
      }
      next(false);
    };
  }

  private keyFiles(): string[] {
    const s = this.spec;
    if (s.identityFiles.length) return s.identityFiles.map(home);
    if (s.identitiesOnly && s.password !== undefined) return [];
    return DEFAULT_KEYS.map((k) => join(os.homedir(), '.ssh', k));
  }

  private verifyHostKey(blob: Buffer): boolean {
    const s = this.spec;
    if (s.checkHostKeys === 'ignore') return true;
    const key = { type: keyType(blob), blob };
    const name = hostKeyName(s.host, s.port);
    const verdict = checkHostKey([...s.userKnownHosts, ...s.globalKnownHosts].map(home), name, key);
    if (verdict.status === 'known') return true;
    if (verdict.status === 'unknown' && s.checkHostKeys === 'accept') {
      const file = s.userKnownHosts[0] && home(s.userKnownHosts[0]);
      if (file && file !== '/dev/null') addHostKey(file, name, key);
      return true;
    }
    const shown = key.type.replace(/^ssh-/, '').replace(/-.*/, '').toUpperCase();
    this.hostKeyProblem = verdict.status === 'changed'
      ? `@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nThe ${shown} host key for ${name} differs from the one in ${verdict.where}.\nHost key verification failed.`
      : verdict.status === 'revoked'
        ? `Host key for ${name} was revoked (${verdict.where}).\nHost key verification failed.`
        : `No ${shown} host key is known for ${name} and you have requested strict checking.\nHost key verification failed.`;
    return false;
  }

  /** An ssh2 error in the words OpenSSH would print for it. */
  private describe(e: Error & { level?: string; code?: string }): string {
    const s = this.spec;
    if (this.hostKeyProblem) return this.hostKeyProblem;
    if (e.level === 'client-authentication') {
      // The error names the peer already; ssh would prefix user@host.
      return `Permission denied (${this.methodsOffered.join(',') || 'no methods offered'}).`;
    }
    const reasons: Record<string, string> = {
      ECONNREFUSED: 'Connection refused', EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable',
      ETIMEDOUT: 'Connection timed out', ECONNRESET: 'Connection reset by peer',
    };
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `ssh: Could not resolve hostname ${s.host}: Name or service not known`;
    if (e.code && reasons[e.code]) return `ssh: connect to host ${s.host} port ${s.port}: ${reasons[e.code]}`;
    // After the session started, a timeout is the keepalive giving up, in ssh's words.
    if (e.level === 'client-timeout' && this.channel) return `Timeout, server ${s.host} not responding.`;
    if (e.level === 'client-timeout') return `ssh: connect to host ${s.host} port ${s.port}: Connection timed out during banner exchange`;
    return `ssh: ${s.host}: ${e.message}`;
  }

  /** Ends the session as ssh would after a failure: its words on stderr, status 255. */
  private failWith(text: string): void {
    if (this.ended) return;
    this.conn?.end();
    this.stderr.end(`${text}\n`);
    this.stdout.end();
    this.stderr.once('end', () => this.finish(255, null));
    this.stderr.resume();
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

/** `~/x` in the connecting user's home, as ssh expands it. */
function home(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(os.homedir(), path.slice(1)) : path;
}
