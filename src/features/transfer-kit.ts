/**
 * The transfer kit: credit-based byte streams between two contexts, and the
 * file and process plumbing putFile, getFile and fakessh build on them.
 *
 * It is one function of its environment (`env`: the router, the message
 * classes, fs, path, os, child_process and the grant policy), which both ends
 * call with their own: the master with its modules, a target with the ones
 * its runtime bundles (kit-remote.ts). Until session 10 the kit travelled as
 * source with each transfer, so it refers to nothing outside `env` and
 * JavaScript's globals; it no longer has to, but what it uses stays visible
 * in one place.
 *
 * A stream has two endpoints, each a handle in its own context: an Outlet
 * (the sending end, which owns the credit) and an Inlet (the receiving end).
 * Bodies, all msgpack:
 *   to the Inlet:  ['h', outletSender, meta]  hello, when the Outlet came second
 *                  Uint8Array                  a chunk (bin32, built in place)
 *                  ['e']                       end of stream
 *                  ['w', acksSeen]             the Outlet waits for credit, having seen acksSeen grants
 *   to the Outlet: ['h', inletSender, null]    hello, when the Inlet came second
 *                  ['a', bytes]                credit back: bytes written
 *                  ['a', bytes, windowBytes]   the same, and the window grew
 *                  ['p', bytes]                progress, only when asked for: bytes written so far
 *   either way:    ['x', FailInfo]             the other end failed or cancelled
 * Every message carries replyTo = the sender's own handle: if the peer's
 * endpoint is gone, the router bounces it back dead, so no end waits forever.
 * The Outlet keeps at most a window of bytes unacknowledged; the Inlet
 * counts a chunk taken once it has written it, and grants credit by the
 * policy every stream shares (flow-credit.ts, which arrives in `env` for the
 * same reason this file cannot import): half a window at a time, at once
 * when the Outlet waits and everything here is written, and with the window
 * doubled (up to its maximum) while the writer keeps up and the link's round
 * trip is the limit. So memory is bounded on every hop whatever the stream's
 * length, and acknowledgements are a few per window, not one per chunk.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import type { ContextView, RouterView } from '../runtime/context-view.js';
import type { CreditGrantor, CreditGrantorClass, CreditWindow } from './flow-credit.js';
import type { Message as MessageClass } from '../wire/message.js';
import type { Sender as SenderClass } from '../channels/sender.js';

export interface KitEnv {
  router: RouterView;
  Message: typeof MessageClass;
  Sender: typeof SenderClass;
  fs: typeof import('node:fs');
  path: typeof import('node:path');
  os: typeof import('node:os');
  childProcess: typeof import('node:child_process');
  /** The grant policy (flow-credit.ts's creditPolicy()). */
  Grantor: CreditGrantorClass;
}

/** What a kit's streams have done so far, summed over them: counts, never times. */
export interface KitStats {
  /** Data chunks sent by Outlets and received by Inlets. */
  chunksSent: number;
  chunksReceived: number;
  /** Credit messages sent by Inlets and received by Outlets. */
  creditsSent: number;
  creditsReceived: number;
  /** 'waiting for credit' notices Outlets sent. */
  waits: number;
  /** The most bytes any Outlet had sent and not yet had acknowledged. */
  maxInflight: number;
  /** The largest window an Inlet granted (0: none grew). */
  maxGranted: number;
}

/** Why a transfer stopped, as plain data that travels: an errno name, 'CANCELLED' or 'ECHANNEL'. */
export interface FailInfo {
  code: string;
  message: string;
  /** The name of the context where it happened. */
  side: string;
  path?: string;
  syscall?: string;
}

/** What a file's receiver needs to recreate it. Times in milliseconds since the epoch. */
export interface FileMeta {
  size: number;
  mode: number;
  atimeMs: number;
  mtimeMs: number;
}

/** How a received file is finished. */
export interface FinishOptions {
  /** Permission bits to set instead of the source's. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Keep the source's atime and mtime (default true). */
  preserveTimes?: boolean;
  /** fsync the file before the rename (default false). */
  fsync?: boolean;
}

export interface ExitStatus { code: number | null; signal: string | null }

export interface TempFile { fh: FileHandle; tmp: string }

/** One end of a stream (see the protocol above). */
export interface Endpoint {
  readonly handle: number;
  /** The other end, once known (from a call's arguments or its hello). */
  peer?: SenderClass;
  /** A Sender to this end, to give the other. */
  sender(): SenderClass;
  /** Resolves with the other end's metadata once its hello has arrived. */
  hello(): Promise<unknown>;
  /** Fails whatever waits on this end (the first failure wins). */
  fail(info: FailInfo): void;
  /** Tells the other end we stopped (unless the stop came from it), and closes. */
  abort(info: FailInfo): void;
  close(): void;
}

/** The sending end: at most a window of bytes unacknowledged. */
export interface Outlet extends Endpoint {
  /** This end came second: greet the Inlet with our handle and the stream's metadata. */
  announce(peer: SenderClass, meta: unknown): void;
  /** Sends the first `n` bytes of a chunkFrame() once the window allows. The frame is consumed. */
  send(frame: Uint8Array, n: number): Promise<void>;
  end(): void;
  /** Resolves once every byte sent has been acknowledged. */
  drain(): Promise<void>;
}

/** The receiving end: chunks queue here until taken (the window bounds them). */
export interface Inlet extends Endpoint {
  /** This end came second: greet the Outlet with our handle. */
  announce(peer: SenderClass): void;
  /** The next chunk, or null at the end of the stream. */
  next(): Promise<Uint8Array | null>;
  /** The chunk taken last (`n` bytes) is written: credit goes back when the shared policy says (flow-credit.ts). */
  ack(n: number): void;
  /** Tells the Outlet that `bytes` are written so far (progress; credit is ack's). */
  report(bytes: number): void;
}

/** A failure the kit raises: its info travels to the other end as it is. */
export interface TransferAbortError extends Error { readonly info: FailInfo }

export interface TransferKit {
  TransferAbort: new (info: FailInfo) => TransferAbortError;
  /** `onProgress`: bytes acknowledged, or reported written by the Inlet, so far. */
  Outlet: new (respondent: ContextView, window: CreditWindow, onProgress?: (bytes: number) => void) => Outlet;
  Inlet: new (respondent: ContextView, window: CreditWindow) => Inlet;
  stats: KitStats;
  failInfo(e: unknown, filePath?: string): FailInfo;
  cancelled(): FailInfo;
  chunkFrame(n: number): Uint8Array;
  frameOf(bytes: Uint8Array): Uint8Array;
  sendFile(out: Outlet, fh: FileHandle, size: number, chunk: number, filePath: string): Promise<void>;
  writeStream(inl: Inlet, fh: FileHandle, dest: string, onWritten?: (bytes: number) => void): Promise<void>;
  openTemp(dest: string): Promise<TempFile>;
  finishTemp(t: TempFile, dest: string, meta: FileMeta, opts: FinishOptions): Promise<void>;
  discardTemp(t: TempFile | undefined): Promise<void>;
  openSource(filePath: string): Promise<{ fh: FileHandle; meta: FileMeta }>;
  readStats(): Promise<KitStats>;
  serveFile(filePath: string, peer: SenderClass, window: CreditWindow, chunk: number): Promise<FailInfo | null>;
  acceptFile(dest: string, meta: FileMeta, opts: FinishOptions, peer: SenderClass, window: CreditWindow, reportProgress: boolean): Promise<FailInfo | null>;
  pumpReadable(out: Outlet, readable: Readable): Promise<void>;
  drainToWritable(inl: Inlet, writable: Writable): Promise<void>;
  runCommand(command: string, subsystem: string | null, stdinFrom: SenderClass, stdoutTo: SenderClass, stderrTo: SenderClass, window: CreditWindow): Promise<ExitStatus>;
}

export function transferKit(env: KitEnv): TransferKit {
  const { router, Message, Sender, fs, path, os, childProcess, Grantor } = env;
  const stats: KitStats = { chunksSent: 0, chunksReceived: 0, creditsSent: 0, creditsReceived: 0, waits: 0, maxInflight: 0, maxGranted: 0 };
  const HEADER = 26; // frame header: codec.ts HEADER_SIZE
  const BIN = 5; // msgpack bin32: 0xc6 and a 32-bit length

  class TransferAbort extends Error implements TransferAbortError {
    constructor(readonly info: FailInfo) {
      super(info.message);
    }
  }

  function failInfo(e: unknown, filePath?: string): FailInfo {
    if (e instanceof TransferAbort) return e.info;
    const err = e as NodeJS.ErrnoException | undefined;
    const code = typeof err?.code === 'string' ? err.code : 'ERROR';
    return { code, message: err instanceof Error ? err.message : String(e), side: router.name, path: filePath, syscall: err?.syscall };
  }

  const cancelled = (): FailInfo => ({ code: 'CANCELLED', message: 'cancelled', side: router.name });

  /** A frame with room for a chunk of `n` bytes at HEADER + BIN: the body is a msgpack bin32. */
  function chunkFrame(n: number): Uint8Array {
    const frame = new Uint8Array(HEADER + BIN + n);
    frame[HEADER] = 0xc6;
    new DataView(frame.buffer).setUint32(HEADER + 1, n);
    return frame;
  }

  /** A chunk frame holding a copy of `bytes` (for stream data, which arrives in Node's own buffers). */
  function frameOf(bytes: Uint8Array): Uint8Array {
    const frame = chunkFrame(bytes.byteLength);
    frame.set(bytes, HEADER + BIN);
    return frame;
  }

  abstract class EndpointBase implements Endpoint {
    readonly handle: number;
    peer?: SenderClass;
    protected meta: unknown = null;
    private failure?: TransferAbort;
    private peerFailed = false;
    private closed = false;
    private wakers: (() => void)[] = [];

    constructor(respondent: ContextView) {
      this.handle = router.addHandler((m) => this.onMessage(m), { persist: true, respondent });
      router.broker.hold();
    }

    /** A Sender to this endpoint, to give the peer. */
    sender(): SenderClass {
      return new Sender(router.myself(), this.handle);
    }

    protected abstract onChunk(bytes: Uint8Array): void;
    protected abstract onControl(body: unknown[]): void;

    private onMessage(m: MessageClass): void {
      if (this.closed) return;
      if (m.isDead) {
        this.peerFailed = true;
        this.fail({ code: 'ECHANNEL', message: m.deadReason(), side: router.name });
        return;
      }
      let body: unknown;
      try {
        body = m.decode();
      } catch (e) {
        this.fail(failInfo(e));
        return;
      }
      if (body instanceof Uint8Array) this.onChunk(body);
      else if (Array.isArray(body) && body[0] === 'h') {
        this.peer = body[1] as SenderClass;
        this.meta = body[2];
      } else if (Array.isArray(body) && body[0] === 'x') {
        this.peerFailed = true;
        this.fail(body[1] as FailInfo);
      } else if (Array.isArray(body)) this.onControl(body);
      this.poke();
    }

    /** Fails whatever waits on this endpoint (the first failure wins). */
    fail(info: FailInfo): void {
      this.failure ??= new TransferAbort(info);
      this.poke();
    }

    /** Tells the peer we stopped (unless the stop came from it), and closes. */
    abort(info: FailInfo): void {
      if (this.peer && !this.peerFailed && !this.closed) this.post(['x', info]);
      this.close();
    }

    close(): void {
      if (this.closed) return;
      this.closed = true;
      router.delHandler(this.handle);
      router.broker.release();
      this.poke();
    }

    /** Resolves with the peer's metadata once its hello has arrived. */
    async hello(): Promise<unknown> {
      while (!this.peer) await this.wait();
      return this.meta;
    }

    protected post(body: unknown[]): void {
      const p = this.peer!;
      p.context.send(Message.encoded(body, { handle: p.dstHandle, replyTo: this.handle }, router.codecContext));
    }

    protected check(): void {
      if (this.failure) throw this.failure;
      if (this.closed) throw new TransferAbort(cancelled());
    }

    /** Waits for the next message (or failure); throws if the endpoint has failed. */
    protected async wait(): Promise<void> {
      this.check();
      await new Promise<void>((resolve) => this.wakers.push(resolve));
      this.check();
    }

    private poke(): void {
      for (const w of this.wakers.splice(0)) w();
    }
  }

  /** The sending end of a stream: it may have at most a window of bytes unacknowledged (one chunk always). */
  class OutletImpl extends EndpointBase implements Outlet {
    private inflight = 0;
    private acked = 0;
    private acksSeen = 0;
    /** acksSeen when the Inlet was last told we wait (-1: never): one notice per grant seen. */
    private toldWaitingAt = -1;
    private bytes: number;
    private readonly maxBytes: number;

    constructor(respondent: ContextView, window: CreditWindow, private readonly onProgress?: (bytes: number) => void) {
      super(respondent);
      this.bytes = window.bytes;
      this.maxBytes = window.maxBytes;
    }

    protected onChunk(): void { /* an Outlet receives no data */ }

    protected onControl(body: unknown[]): void {
      if (body[0] === 'p' && typeof body[1] === 'number') this.onProgress?.(body[1]);
      if (body[0] !== 'a') return;
      const n = body[1] as number;
      stats.creditsReceived++;
      this.acksSeen++;
      this.inflight -= n;
      this.acked += n;
      // Never beyond the maximum this end was given, whatever the Inlet says.
      const grown = body[2];
      if (typeof grown === 'number' && grown > this.bytes) this.bytes = Math.min(grown, this.maxBytes);
      this.onProgress?.(this.acked);
    }

    /** This Outlet came second: greet the Inlet with our handle and the stream's metadata. */
    announce(peer: SenderClass, meta: unknown): void {
      this.peer = peer;
      this.post(['h', this.sender(), meta]);
    }

    /** Tells the Inlet we wait for credit, once per grant seen: it then grants what it has written, without waiting for half a window. */
    private waiting(): void {
      if (this.toldWaitingAt === this.acksSeen) return;
      this.toldWaitingAt = this.acksSeen;
      stats.waits++;
      this.post(['w', this.acksSeen]);
    }

    /** Sends the first `n` bytes of a chunkFrame() once the window allows. The frame is consumed. */
    async send(frame: Uint8Array, n: number): Promise<void> {
      while (this.inflight > 0 && this.inflight + n > this.bytes) {
        this.check();
        this.waiting();
        await this.wait();
      }
      this.check();
      if (n !== frame.byteLength - HEADER - BIN) frame = frameOf(frame.subarray(HEADER + BIN, HEADER + BIN + n));
      this.inflight += n;
      stats.chunksSent++;
      stats.maxInflight = Math.max(stats.maxInflight, this.inflight);
      const p = this.peer!;
      // The body is already in place after the header: routing writes the header and moves the buffer.
      p.context.send(Message.fromFrame(frame, { dstId: p.context.contextId, srcId: router.myId, authId: router.myId, handle: p.dstHandle, replyTo: this.handle }));
    }

    end(): void {
      this.check();
      this.post(['e']);
    }

    /** Resolves once every byte sent has been acknowledged. */
    async drain(): Promise<void> {
      while (this.inflight > 0) {
        this.check();
        this.waiting();
        await this.wait();
      }
    }
  }

  /** The receiving end of a stream: chunks queue here until taken (the window bounds them). */
  class InletImpl extends EndpointBase implements Inlet {
    private readonly queue: (Uint8Array | null)[] = [];
    private head = 0;
    private readonly grantor: CreditGrantor;

    constructor(respondent: ContextView, window: CreditWindow) {
      super(respondent);
      this.grantor = new Grantor(window);
    }

    protected onChunk(bytes: Uint8Array): void {
      this.grantor.received(1, false, 0);
      stats.chunksReceived++;
      this.queue.push(bytes);
    }

    protected onControl(body: unknown[]): void {
      if (body[0] === 'e') this.queue.push(null);
      else if (body[0] === 'w' && typeof body[1] === 'number') {
        this.grantor.received(0, true, body[1]);
        this.grant();
      }
    }

    /** This Inlet came second: greet the Outlet with our handle. */
    announce(peer: SenderClass): void {
      this.peer = peer;
      this.post(['h', this.sender(), null]);
    }

    /** The next chunk, or null at the end of the stream. */
    async next(): Promise<Uint8Array | null> {
      for (;;) {
        this.check();
        if (this.head < this.queue.length) {
          const c = this.queue[this.head]!;
          this.queue[this.head++] = null;
          if (this.head === this.queue.length) { this.queue.length = 0; this.head = 0; }
          return c;
        }
        await this.wait();
      }
    }

    /** `n` bytes are written: credit goes back when the policy says so. */
    ack(n: number): void {
      this.grantor.taken(1, n);
      this.grant();
    }

    report(bytes: number): void {
      if (this.peer) this.post(['p', bytes]);
    }

    private grant(): void {
      if (!this.peer) return;
      const g = this.grantor.due();
      if (!g) return;
      stats.creditsSent++;
      if (g.window !== undefined) stats.maxGranted = Math.max(stats.maxGranted, g.window);
      this.post(g.window === undefined ? ['a', g.bytes] : ['a', g.bytes, g.window]);
    }
  }

  // ---------------------------------------------------------------- files

  /** Streams an open file through `out`, reading straight into the frames that travel. */
  async function sendFile(out: Outlet, fh: FileHandle, size: number, chunk: number, filePath: string): Promise<void> {
    let pos = 0;
    for (;;) {
      // Exactly the bytes stat promised, then a small probe for a file that grew meanwhile.
      const want = pos < size ? Math.min(chunk, size - pos) : 64 * 1024;
      const frame = chunkFrame(want);
      let n: number;
      try {
        n = (await fh.read(frame, HEADER + BIN, want, pos)).bytesRead;
      } catch (e) {
        throw new TransferAbort(failInfo(e, filePath));
      }
      if (n === 0) break;
      await out.send(frame, n);
      pos += n;
    }
    out.end();
  }

  /** Writes every chunk `inl` delivers into `fh`, each counted taken (for credit) once written. */
  async function writeStream(inl: Inlet, fh: FileHandle, dest: string, onWritten?: (bytes: number) => void): Promise<void> {
    let done = 0;
    for (;;) {
      const c = await inl.next();
      if (!c) return;
      try {
        for (let off = 0; off < c.byteLength;) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
      } catch (e) {
        throw new TransferAbort(failInfo(e, dest));
      }
      inl.ack(c.byteLength);
      done += c.byteLength;
      onWritten?.(done);
    }
  }

  /** Opens a new temporary file beside `dest` (same directory, so the final rename is atomic). */
  async function openTemp(dest: string): Promise<TempFile> {
    const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.mtgtmp`);
    try {
      if (dest.endsWith('/') || fs.statSync(dest, { throwIfNoEntry: false })?.isDirectory()) {
        throw Object.assign(new Error(`EISDIR: is a directory, open '${dest}'`), { code: 'EISDIR', syscall: 'open' });
      }
      return { fh: await fs.promises.open(tmp, 'wx', 0o600), tmp };
    } catch (e) {
      throw new TransferAbort(failInfo(e, dest));
    }
  }

  /** Sets owner, mode and times on the temporary file, then renames it over `dest`. */
  async function finishTemp(t: TempFile, dest: string, meta: FileMeta, opts: FinishOptions): Promise<void> {
    try {
      // chown first: it clears set-id bits that chmod then sets.
      if (opts.uid !== undefined || opts.gid !== undefined) await t.fh.chown(opts.uid ?? -1, opts.gid ?? -1);
      await t.fh.chmod(opts.mode ?? meta.mode);
      if (opts.fsync) await t.fh.sync();
      if (opts.preserveTimes !== false) await t.fh.utimes(meta.atimeMs / 1000, meta.mtimeMs / 1000);
      await t.fh.close();
      await fs.promises.rename(t.tmp, dest);
    } catch (e) {
      throw new TransferAbort(failInfo(e, dest));
    }
  }

  /** Removes a temporary file (after a failure); never throws. */
  async function discardTemp(t: TempFile | undefined): Promise<void> {
    if (!t) return;
    await t.fh.close().catch(() => {});
    await fs.promises.unlink(t.tmp).catch(() => {});
  }

  async function openSource(filePath: string): Promise<{ fh: FileHandle; meta: FileMeta }> {
    let fh: FileHandle | undefined;
    try {
      fh = await fs.promises.open(filePath, 'r');
      const st = await fh.stat();
      if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: is a directory, read '${filePath}'`), { code: 'EISDIR', syscall: 'read' });
      return { fh, meta: { size: st.size, mode: st.mode & 0o7777, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs } };
    } catch (e) {
      await fh?.close().catch(() => {});
      throw new TransferAbort(failInfo(e, filePath));
    }
  }

  /**
   * getFile's far end: opens `filePath`, greets `peer` (an Inlet) with its
   * metadata and streams it. Resolves with null, or with why it failed (the
   * peer has been told too).
   */
  async function serveFile(filePath: string, peer: SenderClass, window: CreditWindow, chunk: number): Promise<FailInfo | null> {
    const out = new OutletImpl(peer.context, window);
    let fh: FileHandle | undefined;
    try {
      const src = await openSource(filePath);
      fh = src.fh;
      out.announce(peer, src.meta);
      await sendFile(out, fh, src.meta.size, chunk, filePath);
      // Stay until the last acknowledgement, so none bounces off a closed handle.
      await out.drain();
      return null;
    } catch (e) {
      const info = failInfo(e, filePath);
      if (!out.peer) out.peer = peer;
      out.abort(info);
      return info;
    } finally {
      await fh?.close().catch(() => {});
      out.close();
    }
  }

  /**
   * putFile's far end: creates a temporary file beside `dest`, greets `peer`
   * (an Outlet), writes what arrives, then finishes and renames it. Resolves
   * with null, or with why it failed (no temporary file is left).
   * `reportProgress`: tell the Outlet the bytes written after every chunk
   * (credit alone comes back only a few times a window).
   */
  async function acceptFile(dest: string, meta: FileMeta, opts: FinishOptions, peer: SenderClass, window: CreditWindow, reportProgress: boolean): Promise<FailInfo | null> {
    const inl = new InletImpl(peer.context, window);
    let t: TempFile | undefined;
    try {
      t = await openTemp(dest);
      inl.announce(peer);
      await writeStream(inl, t.fh, dest, reportProgress ? (bytes) => inl.report(bytes) : undefined);
      await finishTemp(t, dest, meta, opts);
      return null;
    } catch (e) {
      const info = failInfo(e, dest);
      if (!inl.peer) inl.peer = peer;
      inl.abort(info);
      await discardTemp(t);
      return info;
    } finally {
      inl.close();
    }
  }

  // ---------------------------------------------------------------- processes and Node streams

  /** Sends everything `readable` yields through `out`, then ends the stream; on failure, destroys the readable. */
  async function pumpReadable(out: Outlet, readable: Readable): Promise<void> {
    try {
      for await (const c of readable as AsyncIterable<Uint8Array>) await out.send(frameOf(c), c.byteLength);
      out.end();
      await out.drain();
    } catch (e) {
      readable.destroy();
      out.abort(failInfo(e));
    } finally {
      out.close();
    }
  }

  /** Writes what `inl` delivers into `writable` (acknowledged once flushed), then ends it. */
  async function drainToWritable(inl: Inlet, writable: Writable): Promise<void> {
    try {
      for (;;) {
        const c = await inl.next();
        if (!c) break;
        await new Promise<void>((resolve, reject) => writable.write(c, (err) => (err ? reject(err) : resolve())));
        inl.ack(c.byteLength);
      }
      writable.end();
    } catch (e) {
      writable.destroy();
      inl.abort(failInfo(e));
    } finally {
      inl.close();
    }
  }

  const SFTP_SERVERS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/lib/ssh/sftp-server', '/usr/libexec/sftp-server', '/usr/lib/sftp-server'];

  /**
   * fakessh's far end: runs `command` with `sh -c` in the home directory, as
   * sshd would (or, for the `sftp` subsystem, the sftp-server), relaying its
   * stdin from one Outlet and its stdout and stderr to two Inlets. Resolves
   * with its exit status once its output has all been delivered.
   */
  async function runCommand(command: string, subsystem: string | null, stdinFrom: SenderClass, stdoutTo: SenderClass, stderrTo: SenderClass, window: CreditWindow): Promise<ExitStatus> {
    const inl = new InletImpl(stdinFrom.context, window);
    const out = new OutletImpl(stdoutTo.context, window);
    const err = new OutletImpl(stderrTo.context, window);
    inl.announce(stdinFrom);
    out.announce(stdoutTo, null);
    err.announce(stderrTo, null);
    let file = '/bin/sh';
    let args = ['-c', command];
    if (subsystem !== null) {
      const server = subsystem === 'sftp' ? SFTP_SERVERS.find((p) => fs.existsSync(p)) : undefined;
      file = server ?? '/bin/sh';
      args = server ? [] : ['-c', `echo "subsystem request failed: ${subsystem.replace(/[^\w.-]/g, '?')} is not available on $(hostname)" >&2; exit 255`];
    }
    const home = os.homedir();
    const child = childProcess.spawn(file, args, { cwd: fs.existsSync(home) ? home : '/', stdio: 'pipe' });
    const status = new Promise<ExitStatus>((resolve) => {
      // A failed spawn: Node ends its pipes too, and the pumps finish.
      child.on('error', () => resolve({ code: 127, signal: null }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    child.stdin.on('error', () => { /* EPIPE once the command has exited: drainToWritable sees it */ });
    const pumps = [pumpReadable(out, child.stdout), pumpReadable(err, child.stderr)];
    void drainToWritable(inl, child.stdin);
    const result = await status;
    await Promise.all(pumps);
    inl.close();
    return result;
  }

  /** A copy of the counters, for the other end to read (tests, debugging). */
  async function readStats(): Promise<KitStats> {
    return { ...stats };
  }

  return {
    TransferAbort, Outlet: OutletImpl, Inlet: InletImpl, stats, failInfo, cancelled, chunkFrame, frameOf,
    sendFile, writeStream, openTemp, finishTemp, discardTemp, openSource,
    serveFile, acceptFile, pumpReadable, drainToWritable, runCommand, readStats,
  };
}

/** The operations a target runs through kit-remote.ts. */
export type RemoteOp = 'serveFile' | 'acceptFile' | 'runCommand' | 'readStats';
