/**
 * StreamActor: one byte stream to a neighbouring context (a child's pipes,
 * or this context's own fds to its parent). It cuts the byte stream into
 * frames, checks the magic and the size limit, and writes frames out with
 * writes coalesced per tick. It never decodes a body.
 */
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { HEADER_SIZE, readHeader } from '../src/wire/codec.js';
import type { Header } from '../src/wire/codec.js';
import { DEFAULT_MAX_UNSENT_BYTES } from '../src/wire/handles.js';
import type { FrameRecycler } from './frame-recycler.js';
import { Mailbox } from './mailbox.js';

/**
 * What the streams of one broker share (several brokers may share a thread: a
 * host's and its forks'), changed in place by its setLimits.
 */
export interface StreamShared {
  /**
   * Bytes that may wait unsent on one stream. A peer that stops reading
   * (SIGSTOP, a wedged host behind a live TCP connection) would otherwise
   * make this process buffer whatever is sent to it until memory runs out;
   * past the bound the stream is closed, so its callers get ChannelError and
   * the rest of the tree goes on.
   */
  maxUnsentBytes: number;
  /** Gives the main thread's large frames back to it once written. */
  recycler?: FrameRecycler;
}

export interface StreamEvents {
  frame(frame: Uint8Array, header: Header, stream: StreamActor): void;
  /** A frame over the size limit was skipped (its body never buffered). */
  oversize(header: Header, stream: StreamActor): void;
  closed(stream: StreamActor, reason: string): void;
}

/** From this size up a received frame is allocated without zeroing. */
const LARGE_FRAME = 64 * 1024;

export class StreamActor {
  /** The id of the context at the other end. */
  readonly remoteId: number;
  name: string;
  /** Ids routed through this stream because the peer sent ADD_ROUTE for them. */
  readonly addedIds = new Set<number>();
  /** Ids of contexts this stream's peer has sent messages to (for DEL_ROUTE fan-out). */
  readonly talkedTo = new Set<number>();
  /** The OS process behind this stream, when we started it. */
  pid?: number;
  isClosed = false;
  readonly inbox: Mailbox<Buffer>;

  #chunks: Buffer[] = [];
  #avail = 0;
  #header?: Header;
  #skip = 0;
  #corked = false;
  #overflowed = false;
  readonly #shared: StreamShared;
  /** Whether the large frames written here may go back to the main thread once written. */
  readonly #recycles: boolean;

  readonly #input: Readable;
  readonly #output: Writable;
  readonly #events: StreamEvents;

  constructor(
    input: Readable,
    output: Writable,
    opts: { remoteId: number; name: string; maxMessageSize: number; deferReading?: boolean; gated?: boolean; shared?: StreamShared },
    events: StreamEvents,
  ) {
    this.#input = input;
    this.#output = output;
    this.#events = events;
    this.#shared = opts.shared ?? { maxUnsentBytes: DEFAULT_MAX_UNSENT_BYTES };
    // Only a socket's write callback means its bytes are gone (to the kernel): a Transform calls
    // back with the chunk still queued on its readable side, an ssh2 channel or a port may hold it.
    this.#recycles = output instanceof Socket;
    this.remoteId = opts.remoteId;
    this.name = opts.name;
    this.maxMessageSize = opts.maxMessageSize;
    this.inbox = new Mailbox((chunk) => this.feed(chunk));
    this.booting = opts.deferReading === true;
    this.#gated = opts.gated === true;
    if (!this.booting) this.startReading();
  }

  /**
   * True while the stream may be written but not yet read: the child has read
   * its runtime but still prints its last bootstrap line, so frames sent now
   * wait in its pipe (and the first call rides ahead of that line).
   */
  booting: boolean;

  /** Starts taking the input as frames (and watching both ends); call in the tick the bootstrap's own reader lets go. */
  startReading(): void {
    this.booting = false;
    const input = this.#input, output = this.#output;
    input.on('data', (chunk: Buffer) => this.inbox.post(chunk));
    input.on('end', () => this.close('EOF on stream'));
    input.on('error', (e: Error) => this.close(`read error: ${e.message}`));
    output.on('error', (e: Error) => this.close(`write error: ${e.message}`));
    output.on('close', () => this.close('stream closed'));
  }

  maxMessageSize: number;

  /** @internal For tests: bytes received and held, waiting to complete a frame. */
  get buffered(): number { return this.#avail; }

  /**
   * True until whoever started the stream has registered it (its route, its
   * code-cache binding): bytes that arrive meanwhile are kept, not cut into
   * frames, or a child's first frames, read in the same chunk as its boot
   * markers, would be routed for a context not yet known and dropped as spoofed.
   */
  #gated: boolean;

  /** Lets the frames held by a gated stream (`opts.gated`) through, and those after them. */
  ungate(): void {
    if (!this.#gated) return;
    this.#gated = false;
    this.#cut();
  }

  /** Feeds bytes received before the stream was handed over (after the bootstrap marker). */
  feed(chunk: Buffer): void {
    if (this.isClosed) return;
    if (this.#gated) {
      this.#chunks.push(chunk);
      this.#avail += chunk.length;
      return;
    }
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      chunk = chunk.subarray(n);
      if (!chunk.length) return;
    }
    this.#chunks.push(chunk);
    this.#avail += chunk.length;
    this.#cut();
  }

  /** Cuts and delivers every whole frame buffered. */
  #cut(): void {
    while (!this.isClosed) {
      if (!this.#header) {
        if (this.#avail < HEADER_SIZE) return;
        const first = this.#chunks[0]!;
        const headBytes = first.length >= HEADER_SIZE ? first : this.#peek(HEADER_SIZE);
        try {
          this.#header = readHeader(headBytes);
        } catch (e) {
          this.close((e as Error).message);
          return;
        }
        if (this.#header.length > this.maxMessageSize) {
          const h = this.#header;
          this.#header = undefined;
          this.#discard(HEADER_SIZE);
          this.#events.oversize(h, this);
          const n = Math.min(h.length, this.#avail);
          this.#discard(n);
          this.#skip = h.length - n;
          if (this.#skip > 0) return;
          continue;
        }
      }
      const total = HEADER_SIZE + this.#header.length;
      if (this.#avail < total) return;
      const frame = this.#take(total);
      const h = this.#header;
      this.#header = undefined;
      this.#events.frame(frame, h, this);
    }
  }

  /** Queues a frame; writes issued in one tick go out together (one writev). */
  write(frame: Uint8Array): void {
    if (this.isClosed || this.#overflowed) return;
    if (!this.#corked) {
      this.#corked = true;
      this.#output.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#output.uncork();
      });
    }
    const written = this.#recycles ? this.#shared.recycler?.onWritten(frame) : undefined;
    if (written) this.#output.write(frame, written);
    else this.#output.write(frame);
    const unsent = this.#output.writableLength;
    const { maxUnsentBytes } = this.#shared;
    if (unsent > maxUnsentBytes) {
      // Closed after the current routing step, not inside it.
      this.#overflowed = true;
      const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
      queueMicrotask(() => this.close(`not reading: ${mib(unsent)} MiB unsent, over maxUnsentBytes (${mib(maxUnsentBytes)} MiB)`));
    }
  }

  /** Ends our side; the peer sees EOF. */
  end(): void {
    if (!this.#output.writableEnded) this.#output.end();
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#chunks = [];
    this.#avail = 0;
    this.inbox.close();
    this.#input.destroy();
    if (!this.#output.destroyed) this.#output.destroy();
    this.#events.closed(this, reason);
  }

  /** Returns the next n bytes as a buffer that owns its memory (it may be transferred). */
  #take(n: number): Uint8Array {
    // Every byte is written below: a large frame need not be zeroed first (allocUnsafeSlow: its own ArrayBuffer, never the shared pool).
    const out = n >= LARGE_FRAME ? Buffer.allocUnsafeSlow(n) : new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(k === c.length ? c : c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(k);
    }
    this.#avail -= n;
    return out;
  }

  #peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks) {
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (off === n) break;
    }
    return out;
  }

  #discard(n: number): void {
    while (n > 0 && this.#chunks.length) {
      const c = this.#chunks[0]!;
      if (c.length <= n) { n -= c.length; this.#avail -= c.length; this.#chunks.shift(); }
      else { this.#chunks[0] = c.subarray(n); this.#avail -= n; n = 0; }
    }
  }
}
