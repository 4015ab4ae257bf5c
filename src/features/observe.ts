/**
 * The consuming side of ctx.observe(): a cold Observable whose values are
 * produced in another context.
 *
 * Flow control is credit-based and counted in bytes: the producer may have
 * at most a window of bytes (and, if set, of values) sent and not yet
 * acknowledged; the consumer acknowledges as it takes values, in batches
 * (half a window at a time). Subscribed with a plain observer, a value is
 * taken when `next()` returns; iterated with `for await`, when the loop pulls
 * it — so a slow consumer holds at most one window in this process, whatever
 * the stream's length. A consumer that runs dry while the producer waits for
 * credit, and then waits longer than it worked (twice running), is held back by the link's
 * round trip, not by itself: the window doubles, up to its maximum. That
 * grant policy is flow-credit.ts's, shared with file transfers and fakessh.
 * Unsubscribing tears the source down in the producer.
 *
 * Protocol (bodies are [kind, ...]): producer -> us: ['s', ctrlHandle]
 * first, then ['b', values, blocked, acksSeen]*, then ['c'] or
 * ['e', CallError]. Us -> producer on ctrlHandle: ['a', values] or
 * ['a', values, newWindowBytes] (credit back), or ['u'] (unsubscribe).
 * See docs/flow-control.md.
 */
import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import type { CallBody } from '../wire/call.js';
import type { ContextView } from '../runtime/context-view.js';
import { ChannelError } from '../wire/errors.js';
import { OBSERVE } from '../wire/handles.js';
import { Message } from '../wire/message.js';
import { creditPolicy } from './flow-credit.js';
import type { CreditGrantor } from './flow-credit.js';
import { checkWindow, DEFAULT_WINDOW } from './flow-window.js';
import type { FlowWindow, Window } from './flow-window.js';

export { DEFAULT_WINDOW } from './flow-window.js';
export type { FlowWindow } from './flow-window.js';

/** What an Observable's subscriptions have done so far, summed over them (the window is the latest one's). */
export interface FlowStats {
  /** Batch frames received. */
  frames: number;
  /** Values received. */
  values: number;
  /** Credit messages sent back to the producer. */
  credits: number;
  /** The current window in bytes (it grows while the consumer keeps up and the link is the limit). */
  window: number;
}

const Grantor = creditPolicy();

type Frame = ['s', number] | ['b', unknown[], boolean, number] | ['c'] | ['e', Error];

interface Sink<T> {
  next(value: T, bytes: number): void;
  error(e: unknown): void;
  complete(): void;
}

/** One subscription's conversation with its producer. */
class Session<T> {
  private ctrl?: number;
  private dataHandle = 0;
  private ended = false;
  private cancelled = false;
  private readonly window: Window;
  /** When credit goes back, and how much (shared with the transfer kit: flow-credit.ts). */
  private readonly grantor: CreditGrantor;

  constructor(private readonly ctx: ContextView, private readonly body: CallBody, window: Window,
    private readonly stats: FlowStats, private readonly sink: Sink<T>) {
    // Where the last stream from this context grew to, within this one's maximum.
    const learned = Math.min(ctx.learnedWindow, window.maxBytes);
    this.window = learned > window.bytes ? { ...window, bytes: learned } : window;
    this.grantor = new Grantor(this.window);
    stats.window = this.window.bytes;
  }

  start(): void {
    const router = this.ctx.router;
    this.dataHandle = router.addHandler((msg) => this.onData(msg), { persist: true, respondent: this.ctx });
    router.broker.hold();
    const w = this.window;
    const start = Message.encoded([this.body, w.bytes, w.messages, w.maxBytes], { handle: OBSERVE, replyTo: this.dataHandle }, router.codecContext);
    this.ctx.send(start);
  }

  private onData(msg: Message): void {
    if (this.ended) return;
    let frame: Frame;
    try {
      frame = msg.decode() as Frame;
    } catch (e) {
      this.end();
      this.sink.error(e);
      return;
    }
    switch (frame[0]) {
      case 's':
        this.ctrl = frame[1];
        if (this.cancelled) this.sendCtrl(['u']);
        return;
      case 'b': {
        if (!Array.isArray(frame[1]) || typeof frame[2] !== 'boolean' || typeof frame[3] !== 'number') {
          // A peer may send anything: a batch that is not one ends the stream, named, rather than throwing in a handler.
          this.end();
          this.sink.error(new ChannelError(`malformed batch from ${this.ctx.name} on an observe stream`));
          return;
        }
        const values = frame[1];
        this.grantor.received(values.length, frame[2], frame[3]);
        this.stats.frames++;
        this.stats.values += values.length;
        const each = values.length ? msg.data.byteLength / values.length : 0;
        for (const v of values) {
          if (this.ended) return;
          this.sink.next(v as T, each);
        }
        this.maybeAck();
        return;
      }
      case 'c':
        this.end();
        this.sink.complete();
        return;
      case 'e':
        this.end();
        this.sink.error(frame[1]);
        return;
    }
  }

  /** The consumer took a value of about `bytes` bytes. */
  consumed(bytes: number): void {
    if (this.ended) return;
    this.grantor.taken(1, bytes);
    this.maybeAck();
  }

  /** Sends the credit the grant policy says is due: ['a', values] or, when the window grew, ['a', values, newBytes]. */
  private maybeAck(): void {
    if (this.ended) return;
    const g = this.grantor.due();
    if (!g) return;
    this.sendCtrl(g.window === undefined ? ['a', g.values] : ['a', g.values, g.window]);
    this.stats.credits++;
    this.stats.window = this.grantor.bytes;
    if (g.window !== undefined) this.ctx.learnedWindow = g.window;
  }

  cancel(): void {
    if (this.ended) return;
    this.cancelled = true;
    if (this.ctrl !== undefined) this.sendCtrl(['u']);
    this.end();
  }

  private sendCtrl(body: unknown): void {
    if (this.ctrl === undefined || this.ctx.isDisconnected) return;
    this.ctx.send(Message.encoded(body, { handle: this.ctrl }));
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ctx.router.delHandler(this.dataHandle);
    this.ctx.router.broker.release();
  }
}

/** An Observable of values produced in another context; also `for await`-able with backpressure. */
export class RemoteObservable<T> extends Observable<T> implements AsyncIterable<T> {
  /** Frames, values and credit messages so far, and the current window: what flow control did, readable. */
  readonly stats: FlowStats;
  private readonly window: Window;

  /** Throws a RangeError naming the field when `window` is not usable. */
  constructor(private readonly ctx: ContextView, private readonly body: CallBody, window: FlowWindow = DEFAULT_WINDOW) {
    const checked = checkWindow(window);
    const stats: FlowStats = { frames: 0, values: 0, credits: 0, window: checked.bytes };
    super((subscriber: Subscriber<T>) => {
      const session: Session<T> = new Session<T>(ctx, body, checked, stats, {
        next: (v, bytes) => { subscriber.next(v); session.consumed(bytes); },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      session.start();
      return () => session.cancel();
    });
    this.stats = stats;
    this.window = checked;
  }

  /** Pull-based consumption: credit goes back only as the loop takes values. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    // Received, not yet taken: at most a window. An index, not shift(): a batch may hold many thousands.
    let values: T[] = [];
    let sizes: number[] = [];
    let head = 0;
    let finished = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const poke = (): void => { const w = wake; wake = undefined; w?.(); };
    const session = new Session<T>(this.ctx, this.body, this.window, this.stats, {
      next: (v, bytes) => { values.push(v); sizes.push(bytes); poke(); },
      error: (e) => { failure = e; finished = true; poke(); },
      complete: () => { finished = true; poke(); },
    });
    session.start();
    try {
      for (;;) {
        if (head < values.length) {
          const v = values[head]!;
          const bytes = sizes[head]!;
          values[head++] = undefined as T;
          if (head === values.length) { values = []; sizes = []; head = 0; }
          session.consumed(bytes);
          yield v;
          continue;
        }
        if (finished) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((r) => { wake = r; });
      }
    } finally {
      session.cancel();
    }
  }
}
