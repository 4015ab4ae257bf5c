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
 *
 * The host is first resolved with the ssh config (src/ssh/ssh-config.ts). Each
 * ProxyJump hop is a connection of its own, the next one carried over a
 * direct-tcpip channel through it (what `ssh -J` does with `-W`): the whole
 * chain lives here, one ssh2 client per hop, each checked and
 * authenticated with its own host's configuration.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type { Ssh2Spec } from '../../src/threads/bootstrap-types.js';
import { StreamError } from '../../src/wire/errors.js';
import { readSshOptions } from '../../src/ssh/ssh-args.js';
import { resolveSshConfig } from '../../src/ssh/ssh-config.js';
import type { JumpHost, SshHostConfig } from '../../src/ssh/ssh-config.js';
import { addHostKey, checkHostKey, hostKeyName, keyType } from './known-hosts.js';
import { Ssh2Auth } from './ssh2-auth.js';
import type { Ssh2Module } from './ssh2-auth.js';

/** ProxyJump hops one connection may take, at most (a config may loop). */
const MAX_HOPS = 16;

/**
 * The receive window this client keeps open on a session channel. ssh2 fixes
 * its own at 2 MiB, which holds a 20 ms round trip to about 50 MiB/s (a
 * tenth of what the link carries); a long link needs more in flight.
 */
const CHANNEL_WINDOW = 16 * 1024 * 1024;

/** The ssh2 internals widenWindow touches: not public API, so each is checked before use. */
interface ChannelInternals { incoming?: { window?: unknown }; outgoing?: { id?: unknown } }
interface ClientInternals { _protocol?: { channelWindowAdjust?: (id: number, bytes: number) => void } }

/**
 * Keeps `channel`'s receive window near `bytes` by granting more as data is
 * taken from it: 'data' stops while our reader holds the pipe back, so no more
 * than the window waits here. ssh2's own top-up (to 2 MiB once below 1 MiB)
 * then never fires. Without the internals (another ssh2), ssh2's window stays.
 */
export function widenWindow(conn: Client, channel: ClientChannel, bytes: number): void {
  const incoming = (channel as unknown as ChannelInternals).incoming;
  const id = (channel as unknown as ChannelInternals).outgoing?.id;
  const protocol = (conn as unknown as ClientInternals)._protocol;
  if (!incoming || typeof incoming.window !== 'number' || typeof id !== 'number' || typeof protocol?.channelWindowAdjust !== 'function') return;
  const topUp = (): void => {
    const w = incoming.window as number;
    if (w >= bytes / 2) return;
    incoming.window = bytes;
    protocol.channelWindowAdjust!(id, bytes - w);
  };
  topUp();
  channel.on('data', topUp);
}

/** How to get the ssh2 package here: the master's own copy, or one brought by module forwarding. */
export type Ssh2Loader = () => Promise<Ssh2Module>;

/** One hop's failure state, for describing its errors in ssh's words. */
interface Hop { cfg: SshHostConfig; auth: Ssh2Auth; jump: boolean; hostKeyProblem?: string }

export class Ssh2Session extends EventEmitter {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly pid = undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Every connection of the chain: the jump hosts', then the target's. */
  readonly #conns: Client[] = [];
  #channel?: ClientChannel;
  #ended = false;

  /** With `debug`, ssh2's own lines go to stderr as ssh -v's do (and are forwarded like them). */
  readonly #debug?: (line: string) => void;

  readonly #spec: Ssh2Spec;
  /** Debug-level records about the connection (the config keywords not acted on); absent when not debugging. */
  readonly #note?: (text: string) => void;

  constructor(spec: Ssh2Spec, load: Ssh2Loader, note?: (text: string) => void) {
    super();
    this.#spec = spec;
    this.#note = note;
    if (spec.debug) this.#debug = (line) => { if (!this.stderr.writableEnded) this.stderr.write(`debug1: ${line}\n`); };
    process.nextTick(() => this.emit('spawn'));
    const loaded = load().catch((e: Error) => { throw new StreamError(`ssh2: the ssh2 package could not be loaded here: ${e.message}`); });
    Promise.all([loaded, this.#route()]).then(
      ([mod, route]) => this.#connectHop(mod, route, 0),
      // A config that cannot be read is the caller's to fix: a StreamError saying what is wrong.
      (e: Error) => { if (!this.#ended) this.emit('error', e instanceof StreamError ? e : new StreamError(e.message)); },
    );
  }

  kill(): boolean {
    if (this.#ended) return false;
    this.#channel?.close();
    for (const c of this.#conns) c.end();
    this.#finish(null, 'SIGKILL');
    return true;
  }

  /** The hosts to connect to in turn: the ProxyJump hops, then the target (as ssh -J resolves them). */
  async #route(): Promise<SshHostConfig[]> {
    const s = this.#spec;
    const target = await this.#resolve(s.host, s.sshArgs);
    // Like ssh, the jump hosts get -F (and their own -l, -p) but not the other options.
    const file = readSshOptions(s.sshArgs).options.filter(([f]) => f === '-F').flatMap(([f, v]) => [f, v!]);
    const hops: SshHostConfig[] = [];
    for (let cfg = target; cfg.proxyJump.length;) {
      if (hops.length >= MAX_HOPS) throw new StreamError(`ssh config for ${s.host}: more than ${MAX_HOPS} ProxyJump hops (a loop?)`);
      const jumps = cfg.proxyJump;
      const last = jumps[jumps.length - 1]!;
      const rest = jumps.slice(0, -1);
      const args = [...file, ...(last.user ? ['-l', last.user] : []), ...(last.port ? ['-p', String(last.port)] : []), ...(rest.length ? ['-J', rest.map(jumpText).join(',')] : [])];
      cfg = await this.#resolve(last.host, args);
      hops.unshift(cfg);
    }
    return [...hops, target];
  }

  async #resolve(host: string, args: string[]): Promise<SshHostConfig> {
    // Telling what the ssh2 client ignores costs one more ssh -G: only when someone listens.
    const cfg = await resolveSshConfig(host, args, { ssh: this.#spec.sshPath, unhonoured: this.#note !== undefined });
    if (cfg.unhonoured.length) this.#note?.(`ssh2: the ssh config for ${host} sets ${cfg.unhonoured.join(', ')}, which the ssh2 client does not act on`);
    return cfg;
  }

  #connectHop(mod: Ssh2Module, route: SshHostConfig[], i: number, sock?: Readable): void {
    if (this.#ended) return;
    const s = this.#spec;
    const cfg = route[i]!;
    const isTarget = i === route.length - 1;
    const agent = cfg.identityAgent === 'none' ? undefined : cfg.identityAgent ?? process.env.SSH_AUTH_SOCK;
    const hop: Hop = {
      cfg,
      jump: !isTarget,
      auth: new Ssh2Auth({
        user: cfg.user, identityFiles: cfg.identityFiles, identitiesOnly: cfg.identitiesOnly, agent,
        password: s.password, passphrase: s.passphrase, methods: cfg.methods,
      }, mod, this.#debug),
    };
    const conn = new mod.Client();
    this.#conns.push(conn);
    conn.on('ready', () => {
      if (!isTarget) { this.#forwardTo(mod, route, i, conn); return; }
      conn.exec(this.#spec.command, (err, channel) => {
        if (err) { this.#failWith(`ssh2: exec on ${cfg.hostname} refused: ${err.message}`); return; }
        this.#channel = channel;
        widenWindow(conn, channel, CHANNEL_WINDOW);
        this.stdin.pipe(channel);
        channel.pipe(this.stdout);
        channel.stderr.pipe(this.stderr);
        let status: [number | null, NodeJS.Signals | null] = [null, null];
        channel.on('exit', (code: number | null, signal?: string) => { status = [code, signal ? (`SIG${signal}` as NodeJS.Signals) : null]; });
        channel.on('close', () => { for (const c of this.#conns) c.end(); this.#finish(...status); });
      });
    });
    conn.on('error', (e: Error & { level?: string; code?: string }) => {
      // An agent that cannot be reached is skipped, as ssh skips it.
      if (e.level === 'agent') { this.#debug?.(`ssh2: agent ${agent}: ${e.message}`); return; }
      this.#failWith(this.#describe(e, hop));
    });
    conn.on('close', () => { if (!this.#channel) this.#failWith(`ssh: connection to ${cfg.hostname} closed during the handshake`); });
    const forward = isTarget ? cfg.forwardAgent : false;
    const forwardSocket = forward === true ? agent : forward || undefined;
    if (forward && !forwardSocket) this.#note?.(`ssh2: ForwardAgent for ${cfg.alias}: no agent to forward`);
    const config: ConnectConfig = {
      host: cfg.hostname,
      port: cfg.port,
      sock,
      username: cfg.user,
      readyTimeout: Math.min(s.connectTimeout, cfg.connectTimeout ?? Infinity) * 1000,
      keepaliveInterval: cfg.serverAliveInterval * 1000,
      keepaliveCountMax: cfg.serverAliveCountMax,
      algorithms: { compress: cfg.compression ? ['zlib@openssh.com', 'zlib', 'none'] : ['none'] },
      hostVerifier: (blob: Buffer) => this.#verifyHostKey(hop, isTarget ? s.checkHostKeys : undefined, blob),
      authHandler: hop.auth.handler(),
      agent: forwardSocket,
      agentForward: forwardSocket !== undefined,
      debug: this.#debug,
    };
    conn.connect(config);
    // Frames are small and latency-bound: Nagle would hold the second of two writes (the key
    // exchange's, a reply after a request) for the server's delayed ACK, 40 ms a time.
    conn.setNoDelay(true);
  }

  /** A direct-tcpip channel from jump host `i` to the next host, the next connection's socket (ssh -W). */
  #forwardTo(mod: Ssh2Module, route: SshHostConfig[], i: number, conn: Client): void {
    const next = route[i + 1]!;
    conn.forwardOut('127.0.0.1', 0, next.hostname, next.port, (err, stream) => {
      if (err) { this.#failWith(`ssh: connect to host ${next.hostname} port ${next.port} through ${route[i]!.alias}: ${err.message}`); return; }
      this.#connectHop(mod, route, i + 1, stream);
    });
  }

  #verifyHostKey(hop: Hop, asked: Ssh2Spec['checkHostKeys'], blob: Buffer): boolean {
    const cfg = hop.cfg;
    const check = asked ?? checkFromConfig(cfg.strictHostKeyChecking);
    if (check === 'ignore') return true;
    const key = { type: keyType(blob), blob };
    // As OpenSSH: a HostKeyAlias is looked up as it is, with no [alias]:port form.
    const name = cfg.hostKeyAlias ?? hostKeyName(cfg.hostname, cfg.port);
    const verdict = checkHostKey([...cfg.userKnownHostsFiles, ...cfg.globalKnownHostsFiles], name, key);
    if (verdict.status === 'known') return true;
    if (verdict.status === 'unknown' && check === 'accept') {
      const file = cfg.userKnownHostsFiles[0];
      if (file && file !== '/dev/null') addHostKey(file, name, key);
      return true;
    }
    const shown = key.type.replace(/^ssh-/, '').replace(/-.*/, '').toUpperCase();
    hop.hostKeyProblem = verdict.status === 'changed'
      ? `@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nThe ${shown} host key for ${name} differs from the one in ${verdict.where}.\nHost key verification failed.`
      : verdict.status === 'revoked'
        ? `Host key for ${name} was revoked (${verdict.where}).\nHost key verification failed.`
        : `No ${shown} host key is known for ${name} and you have requested strict checking.\nHost key verification failed.`;
    return false;
  }

  /** An ssh2 error in the words OpenSSH would print for it. */
  #describe(e: Error & { level?: string; code?: string }, hop: Hop): string {
    const { hostname: host, port } = hop.cfg;
    if (hop.hostKeyProblem) return hop.hostKeyProblem;
    if (e.level === 'client-authentication') {
      // ssh names a jump host that refused (user@host:); the error names the target already.
      return `${hop.jump ? `${hop.cfg.user}@${host}: ` : ''}${hop.auth.deniedText()}`;
    }
    const reasons: Record<string, string> = {
      ECONNREFUSED: 'Connection refused', EHOSTUNREACH: 'No route to host', ENETUNREACH: 'Network is unreachable',
      ETIMEDOUT: 'Connection timed out', ECONNRESET: 'Connection reset by peer',
    };
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `ssh: Could not resolve hostname ${host}: Name or service not known`;
    if (e.code && reasons[e.code]) return `ssh: connect to host ${host} port ${port}: ${reasons[e.code]}`;
    // After the session started, a timeout is the keepalive giving up, in ssh's words.
    if (e.level === 'client-timeout' && this.#channel) return `Timeout, server ${host} not responding.`;
    if (e.level === 'client-timeout') return `ssh: connect to host ${host} port ${port}: Connection timed out during banner exchange`;
    return `ssh: ${host}: ${e.message}`;
  }

  /** Ends the session as ssh would after a failure: its words on stderr, status 255. */
  #failWith(text: string): void {
    if (this.#ended) return;
    for (const c of this.#conns) c.end();
    this.stderr.end(`${text}\n`);
    this.stdout.end();
    this.stderr.once('end', () => this.#finish(255, null));
    this.stderr.resume();
  }

  #finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

/** StrictHostKeyChecking as this client checks: ask (no one to ask) and yes refuse unknown keys. */
function checkFromConfig(value: SshHostConfig['strictHostKeyChecking']): 'enforce' | 'accept' | 'ignore' {
  return value === 'accept-new' ? 'accept' : value === 'no' ? 'ignore' : 'enforce';
}

/** A hop as ssh -J takes it. */
function jumpText(j: JumpHost): string {
  const host = j.host.includes(':') ? `[${j.host}]` : j.host;
  return `${j.user ? `${j.user}@` : ''}${host}${j.port ? `:${j.port}` : ''}`;
}
