/**
 * The consuming side of ctx.observe(): a cold Observable whose values are
 * produced in another context.
 *
 * Flow control is credit-based: the producer may have at most `messages`
 * values or `bytes` bytes unacknowledged; the consumer acknowledges as it
 * takes them. Subscribed with a plain observer, a value is taken when
 * `next()` returns; iterated with `for await`, when the loop pulls it — so a
 * slow consumer holds at most one window in this process, whatever the
 * stream's length. Unsubscribing tears the source down in the producer.
 *
 * Protocol (bodies are [kind, value]): producer -> us: ['s', ctrlHandle]
 * first, then ['n', value]*, then ['c'] or ['e', CallError]. Us -> producer
 * on ctrlHandle: ['a', messages, bytes] (credit back) or ['u'] (unsubscribe).
 */
import { Observable } from 'rxjs';
import type { Subscriber } from 'rxjs';
import type { CallBody } from './call.js';
import type { Context } from './context.js';
import { ChannelError } from './errors.js';
import { OBSERVE } from './handles.js';
import { Message } from './message.js';

export interface FlowWindow {
  /** Values the producer may send ahead of the consumer. */
  messages: number;
  /** Bytes the producer may send ahead (one value is always allowed). */
  bytes: number;
}

export const DEFAULT_WINDOW: FlowWindow = { messages: 32, bytes: 4 * 1024 * 1024 };

type Frame = ['s', number] | ['n', unknown] | ['c'] | ['e', Error];

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
  private ackMsgs = 0;
  private ackBytes = 0;

  constructor(private readonly ctx: Context, private readonly body: CallBody, private readonly window: FlowWindow, private readonly sink: Sink<T>) {}

  start(): void {
    const router = this.ctx.router;
    this.dataHandle = router.addHandler((msg) => this.onData(msg), { persist: true, respondent: this.ctx });
    router.broker.hold();
    const start = Message.encoded([this.body, this.window.messages, this.window.bytes], { handle: OBSERVE, replyTo: this.dataHandle }, router.codecContext);
    this.ctx.send(start);
  }

  private onData(msg: Message): void {
    if (this.ended) return;
    let frame: Frame;
    try {
      frame = msg.decode() as Frame;
    } catch (e) {
      this.end();
      this.sink.error(e instanceof ChannelError ? e : e);
      return;
    }
    switch (frame[0]) {
      case 's':
        this.ctrl = frame[1];
        if (this.cancelled) this.sendCtrl(['u']);
        return;
      case 'n':
        this.sink.next(frame[1] as T, msg.data.byteLength);
        return;
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

  /** The consumer took a value of `bytes` bytes: return credit in batches of half a window. */
  consumed(bytes: number): void {
    if (this.ended) return;
    this.ackMsgs++;
    this.ackBytes += bytes;
    if (this.ackMsgs * 2 >= this.window.messages || this.ackBytes * 2 >= this.window.bytes) {
      this.sendCtrl(['a', this.ackMsgs, this.ackBytes]);
      this.ackMsgs = 0;
      this.ackBytes = 0;
    }
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
  constructor(private readonly ctx: Context, private readonly body: CallBody, private readonly window: FlowWindow = DEFAULT_WINDOW) {
    super((subscriber: Subscriber<T>) => {
      const session: Session<T> = new Session<T>(ctx, body, window, {
        next: (v, bytes) => { subscriber.next(v); session.consumed(bytes); },
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      });
      session.start();
      return () => session.cancel();
    });
  }

  /** Pull-based consumption: credit goes back only as the loop takes values. */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const queue: { v: T; bytes: number }[] = [];
    let finished = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const poke = (): void => { const w = wake; wake = undefined; w?.(); };
    const session = new Session<T>(this.ctx, this.body, this.window, {
      next: (v, bytes) => { queue.push({ v, bytes }); poke(); },
      error: (e) => { failure = e; finished = true; poke(); },
      complete: () => { finished = true; poke(); },
    });
    session.start();
    try {
      for (;;) {
        const item = queue.shift();
        if (item) {
          session.consumed(item.bytes);
          yield item.v;
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
