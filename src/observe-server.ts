/**
 * The producing side of ctx.observe(), in the target context: runs the
 * function, subscribes to the Observable (or iterates the AsyncIterable) it
 * returns, and sends values within the credit the consumer grants.
 *
 * An AsyncIterable is pulled only while there is credit: real backpressure.
 * An Observable pushes, so values beyond the window wait here, in the
 * producer, and never in the consumer's memory.
 */
import { CallError } from './errors.js';
import { OBSERVE } from './handles.js';
import { Message } from './message.js';
import type { CallBody } from './call.js';
import type { Router } from './router.js';

type Resolve = (body: CallBody) => Promise<(...args: unknown[]) => unknown>;

interface Unsubscribable { unsubscribe(): void }

function isObservableLike(v: unknown): v is { subscribe(o: object): Unsubscribable } {
  return typeof v === 'object' && v !== null && typeof (v as { subscribe?: unknown }).subscribe === 'function';
}

class Production {
  private readonly outbox: Message[] = [];
  private inflight = 0;
  private inflightBytes = 0;
  private done = false;
  private terminalQueued = false;
  private pulling = false;
  private iterator?: AsyncIterator<unknown>;
  private teardown?: () => void;
  private readonly ctrl: number;

  constructor(private readonly router: Router, private readonly consumer: number, private readonly dataHandle: number,
    private readonly windowMsgs: number, private readonly windowBytes: number) {
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
        next: (v: unknown) => this.push(['n', v]),
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

  private canSend(): boolean {
    return this.inflight === 0 || (this.inflight < this.windowMsgs && this.inflightBytes < this.windowBytes);
  }

  private async pull(): Promise<void> {
    if (this.pulling || !this.iterator) return;
    this.pulling = true;
    try {
      while (!this.done && !this.terminalQueued && this.outbox.length === 0 && this.canSend()) {
        const r = await this.iterator.next();
        if (this.done) return;
        if (r.done) this.finish(['c']);
        else this.push(['n', r.value]);
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.pulling = false;
    }
  }

  private push(body: unknown): void {
    if (this.done || this.terminalQueued) return;
    let m: Message;
    try {
      m = Message.encoded(body, { dstId: this.consumer, handle: this.dataHandle }, this.router.codecContext);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.outbox.push(m);
    this.pump();
  }

  private fail(e: unknown): void {
    this.finish(['e', CallError.fromThrown(e)]);
  }

  private finish(body: unknown): void {
    if (this.done || this.terminalQueued) return;
    this.outbox.push(Message.encoded(body, { dstId: this.consumer, handle: this.dataHandle }));
    this.terminalQueued = true;
    this.pump();
  }

  private pump(): void {
    while (this.outbox.length && this.canSend()) {
      const m = this.outbox.shift()!;
      this.inflight++;
      this.inflightBytes += m.data.byteLength;
      this.router.route(m);
    }
    if (this.terminalQueued && !this.outbox.length) this.close(false);
  }

  private onCtrl(msg: Message): void {
    const body = msg.decode() as ['a', number, number] | ['u'];
    if (body[0] === 'a') {
      this.inflight -= body[1];
      this.inflightBytes -= body[2];
      this.pump();
      void this.pull();
    } else {
      this.close(true);
    }
  }

  private close(tearDown: boolean): void {
    if (this.done) return;
    this.done = true;
    this.outbox.length = 0;
    this.router.delHandler(this.ctrl);
    if (tearDown) this.teardown?.();
  }
}

/** Registers the OBSERVE handle: only the parent and its ancestors may start productions. */
export function serveObservables(router: Router, resolve: Resolve): void {
  router.addHandler((msg) => {
    let body: [CallBody, number, number];
    try {
      body = msg.decode() as [CallBody, number, number];
    } catch (e) {
      msg.reply(['e', CallError.fromThrown(e)]);
      return;
    }
    const [call, windowMsgs, windowBytes] = body;
    const p = new Production(router, msg.srcId, msg.replyTo, Math.max(1, windowMsgs), Math.max(1, windowBytes));
    void p.run(async () => (await resolve(call))(...call[3]));
  }, { handle: OBSERVE, persist: true, policy: (m) => router.hasParentAuthority(m.authId) });
}
