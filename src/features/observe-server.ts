/**
 * The producing side of ctx.observe(), in the target context: runs the
 * function, subscribes to the Observable (or iterates the AsyncIterable) it
 * returns, and sends values within the credit the consumer grants.
 *
 * Credit is counted in bytes (each value's exact encoded size) and, when the
 * consumer set one, in values. Values produced in one turn travel together
 * in one batch frame. An AsyncIterable is pulled only while there is credit:
 * real backpressure. An Observable pushes, so values beyond the window wait
 * here, in the producer, and never in the consumer's memory.
 *
 * Every batch says whether the producer is now blocked on credit and how
 * many credit messages it has seen: a consumer that has taken everything,
 * while the producer waits for credit it has not been sent, acks at once
 * (nothing can deadlock on a half-window threshold) and may grow the window:
 * the link, not the consumer, was the limit. See docs/flow-control.md.
 */
import { CallError } from '../wire/errors.js';
import { OBSERVE } from '../wire/handles.js';
import { Message } from '../wire/message.js';
import { batchMessage, Piece } from './observe-frame.js';
import type { CallBody } from '../wire/call.js';
import type { Router } from '../runtime/router.js';

type Resolve = (body: CallBody) => Promise<(...args: unknown[]) => unknown>;

interface Unsubscribable { unsubscribe(): void }

/** A batch is sent once it holds this much (or at the end of the turn, or when credit runs out). */
const BATCH_BYTES = 128 * 1024;

function isObservableLike(v: unknown): v is { subscribe(o: object): Unsubscribable } {
  return typeof v === 'object' && v !== null && typeof (v as { subscribe?: unknown }).subscribe === 'function';
}

/** Sizes of the values sent and not yet acknowledged, oldest first: an ack of n values frees exactly their bytes. */
class SizeQueue {
  private items: number[] = [];
  private head = 0;
  push(n: number): void { this.items.push(n); }
  /** Removes the oldest `count` sizes (at most all of them) and returns their sum. */
  take(count: number): number {
    const end = Math.min(this.head + count, this.items.length);
    let sum = 0;
    for (let i = this.head; i < end; i++) sum += this.items[i]!;
    this.head = end;
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return sum;
  }
}

export interface ProductionWindow { bytes: number; messages: number; maxBytes: number }

class Production {
  /** Encoded values waiting for credit (a pushing Observable's overflow; at most one for a pulled iterable). */
  private readonly outbox: Piece[] = [];
  private outboxHead = 0;
  private batch: Piece[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  /** Batch frames sent so far. */
  private frames = 0;
  private inflight = 0;
  private inflightBytes = 0;
  private readonly sizes = new SizeQueue();
  private acksSeen = 0;
  /** acksSeen when the consumer was last told we are blocked (-1: not told since). */
  private toldBlockedAt = -1;
  private done = false;
  private terminal?: unknown;
  private pulling = false;
  private iterator?: AsyncIterator<unknown>;
  private teardown?: () => void;
  private readonly ctrl: number;

  constructor(private readonly router: Router, private readonly consumer: number, private readonly dataHandle: number,
    private readonly window: ProductionWindow) {
    this.ctrl = router.addHandler((m) => this.onCtrl(m), {
      persist: true, policy: (m) => m.srcId === consumer,
    });
    this.router.route(Message.encoded(['s', this.ctrl], { dstId: consumer, handle: dataHandle }));
  }

  async run(fn: () => unknown): Promise<void> {
    let source: unknown;
    try {
      source = await fn();
    } catch (e) {
      this.fail(e);
      return;
    }
    if (this.done) return;
    if (isObservableLike(source)) {
      const sub = source.subscribe({
        next: (v: unknown) => this.push(v),
        error: (e: unknown) => this.fail(e),
        complete: () => this.finish(['c']),
      });
      this.teardown = () => sub.unsubscribe();
      if (this.done) sub.unsubscribe();
    } else if (source && typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      this.iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
      this.teardown = () => { void this.iterator?.return?.(); };
      void this.pull();
    } else {
      this.fail(new TypeError(`observe() needs a function that returns an Observable or an AsyncIterable, not ${source === null ? 'null' : typeof source}`));
    }
  }

  private get waiting(): number { return this.outbox.length - this.outboxHead; }

  /** Whether a value of `size` bytes may be sent now. One value is always allowed, however large. */
  private fits(size: number): boolean {
    if (this.inflight === 0) return true;
    if (this.window.messages && this.inflight >= this.window.messages) return false;
    return this.inflightBytes + size <= this.window.bytes;
  }

  /** Whether to pull another value from an iterable (its size is not known yet). */
  private mayPull(): boolean {
    if (this.inflight === 0) return true;
    if (this.window.messages && this.inflight >= this.window.messages) return false;
    return this.inflightBytes < this.window.bytes;
  }

  private async pull(): Promise<void> {
    if (this.pulling || !this.iterator) return;
    this.pulling = true;
    try {
      while (!this.done && this.terminal === undefined && this.waiting === 0 && this.mayPull()) {
        const r = await this.iterator.next();
        if (this.done) return;
        if (r.done) { this.finish(['c']); return; }
        const framesBefore = this.frames;
        this.push(r.value);
        // A batch just went out: let the event loop run (credit, calls) before pulling on.
        if (this.frames !== framesBefore) await new Promise<void>((resume) => setImmediate(resume));
      }
      if (!this.done && this.terminal === undefined && this.waiting === 0) this.flush(true);
    } catch (e) {
      this.fail(e);
    } finally {
      this.pulling = false;
    }
  }

  private push(v: unknown): void {
    if (this.done || this.terminal !== undefined) return;
    const direct = this.waiting === 0;
    let piece: Piece;
    try {
      piece = Piece.of(v, this.router.codecContext, !direct);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (direct && this.fits(piece.size)) {
      this.admit(piece);
      this.scheduleFlush();
    } else {
      this.outbox.push(piece.kept());
      this.flush(true);
    }
  }

  /** Puts a piece into the current batch, counting its credit; a full batch goes out at once. */
  private admit(piece: Piece): void {
    if (this.batch.length && this.batchBytes + piece.size > BATCH_BYTES) this.flush(false);
    this.batch.push(piece);
    this.batchBytes += piece.size;
    this.inflight++;
    this.inflightBytes += piece.size;
    this.sizes.push(piece.size);
    // A borrowed byte string is copied into the frame now: the producer may refill its buffer once we return.
    if (this.batchBytes >= BATCH_BYTES || piece.borrowed) this.flush(false);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.batch.length) return;
    this.flushScheduled = true;
    const framesAt = this.frames;
    // setImmediate, not a microtask: an async generator resumes in microtasks, so a whole run of values lands in one batch.
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.done) return;
      // A full batch went out meanwhile: what is here now is the start of the next, which the run may still be filling.
      // Without this, every full batch was followed by a frame of one value (half the frames).
      if (this.frames !== framesAt) this.scheduleFlush();
      else this.flush(false);
    });
  }

  /**
   * Sends the current batch. `blocked`: the producer now waits for credit; an
   * empty batch is still sent then, once per credit message seen, so the
   * consumer knows and acks what it has taken.
   */
  private flush(blocked: boolean): void {
    if (this.done) return;
    if (!this.batch.length && !(blocked && this.toldBlockedAt !== this.acksSeen)) return;
    const m = batchMessage(this.batch, this.batchBytes, blocked, this.acksSeen, { dstId: this.consumer, handle: this.dataHandle });
    this.batch = [];
    this.batchBytes = 0;
    this.toldBlockedAt = blocked ? this.acksSeen : -1;
    this.frames++;
    this.router.route(m);
  }

  private fail(e: unknown): void {
    this.finish(['e', CallError.fromThrown(e)]);
  }

  /** The end of the stream: sent after every value produced before it, once they have credit. */
  private finish(body: unknown): void {
    if (this.done || this.terminal !== undefined) return;
    this.terminal = body;
    this.pump();
  }

  /** Sends what credit allows from the outbox, then the terminal frame once nothing waits. */
  private pump(): void {
    while (this.waiting && this.fits(this.outbox[this.outboxHead]!.size)) {
      this.admit(this.outbox[this.outboxHead++]!);
      if (this.outboxHead > 1024 && this.outboxHead * 2 > this.outbox.length) { this.outbox.splice(0, this.outboxHead); this.outboxHead = 0; }
    }
    if (this.waiting) { this.flush(true); return; }
    this.outbox.length = 0;
    this.outboxHead = 0;
    if (this.terminal !== undefined) {
      this.flush(false);
      this.router.route(Message.encoded(this.terminal, { dstId: this.consumer, handle: this.dataHandle }));
      this.close(false);
    } else {
      this.flush(false);
    }
  }

  private onCtrl(msg: Message): void {
    let body: unknown;
    try {
      body = msg.decode();
    } catch {
      return;
    }
    if (!Array.isArray(body)) return;
    if (body[0] === 'a' && Number.isSafeInteger(body[1]) && body[1] > 0) {
      this.acksSeen++;
      const n = Math.min(body[1] as number, this.inflight);
      this.inflight -= n;
      this.inflightBytes -= this.sizes.take(n);
      const grown = body[2];
      // Never beyond the maximum the consumer announced at the start, whatever a later ack says.
      if (typeof grown === 'number' && grown > this.window.bytes) this.window.bytes = Math.min(grown, this.window.maxBytes);
      this.pump();
      void this.pull();
    } else if (body[0] === 'u') {
      this.close(true);
    }
  }

  private close(tearDown: boolean): void {
    if (this.done) return;
    this.done = true;
    this.outbox.length = 0;
    this.batch = [];
    this.router.delHandler(this.ctrl);
    if (tearDown) this.teardown?.();
  }
}

function count(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fallback;
}

/** Registers the OBSERVE handle: only the parent and its ancestors may start productions. */
export function serveObservables(router: Router, resolve: Resolve): void {
  router.addHandler((msg) => {
    let body: [CallBody, number, number, number];
    try {
      body = msg.decode() as [CallBody, number, number, number];
      if (!Array.isArray(body) || !Array.isArray(body[0])) throw new TypeError('an OBSERVE body is [callBody, windowBytes, windowMessages, maxBytes]');
    } catch (e) {
      msg.reply(['e', CallError.fromThrown(e)]);
      return;
    }
    const [call] = body;
    const bytes = Math.max(1, count(body[1], 1));
    const window: ProductionWindow = { bytes, messages: count(body[2], 0), maxBytes: Math.max(bytes, count(body[3], bytes)) };
    const p = new Production(router, msg.srcId, msg.replyTo, window);
    void p.run(async () => (await resolve(call))(...call[3]));
  }, { handle: OBSERVE, persist: true, policy: (m) => router.hasParentAuthority(m.authId) });
}
