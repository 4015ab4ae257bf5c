/**
 * Receiver: the reading end of a channel — a handle in this context whose
 * messages queue until taken with get(), async iteration or an Observable.
 * A dead message (the sender closed, or the respondent context died) ends it
 * with ChannelError carrying the reason. Messages come in through its
 * mailbox: a plain call, unless somebody watches messages$.
 */
import { Observable } from 'rxjs';
import { Mailbox } from '../../actors/mailbox.js';
import type { ContextView, Policy, RouterView } from '../runtime/context-view.js';
import { ChannelError, TimeoutError } from '../wire/errors.js';
import type { Message } from '../wire/message.js';
import { Sender } from './sender.js';
import type { Selectable } from './selectable.js';

export interface ReceiverOptions {
  handle?: number;
  persist?: boolean;
  respondent?: ContextView;
  policy?: Policy;
}

interface Waiter {
  resolve(m: Message): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

export class Receiver implements AsyncIterable<Message>, Selectable<Message> {
  static readonly closedMsg = 'the Receiver has been closed';
  readonly handle: number;
  private readonly queue: Message[] = [];
  private readonly waiters: Waiter[] = [];
  private closedReason?: string;
  private listeners = new Set<(m: Message) => void>();
  private readyListener?: () => void;
  private readonly inbox = new Mailbox<Message>((msg) => this.onMessage(msg));

  constructor(readonly router: RouterView, opts: ReceiverOptions = {}) {
    this.handle = router.addHandler((msg) => this.inbox.post(msg), {
      handle: opts.handle, persist: opts.persist ?? true, respondent: opts.respondent, policy: opts.policy,
    });
  }

  private onMessage(msg: Message): void {
    for (const l of this.listeners) l(msg);
    if (msg.isDead) {
      // Nothing follows a dead message: later get() calls fail at once instead of hanging.
      this.closedReason ??= msg.deadReason();
      this.router.delHandler(this.handle);
      this.inbox.close();
    }
    // A dead message ends the channel for every waiter, not just the first (else the others hang).
    const woken = msg.isDead ? this.waiters.splice(0) : this.waiters.splice(0, 1);
    for (const w of woken) this.settle(w, msg);
    // An observer took it already: queueing it too would hand it out twice.
    if (!woken.length && !this.listeners.size) {
      this.queue.push(msg);
      this.readyListener?.();
    }
  }

  /** @internal Select support: the next queued message, dead ones included. */
  takeReady(): { item: Message } | undefined {
    const m = this.queue.shift();
    return m ? { item: m } : undefined;
  }

  /** @internal Select support. */
  setReadyListener(fn: (() => void) | undefined): void {
    this.readyListener = fn;
  }

  /**
   * Every message that arrives from the moment of subscribing, dead ones
   * included, without taking it: get(), iteration and asObservable() still
   * have it. For tracing; completes when the Receiver ends.
   */
  get messages$(): Observable<Message> {
    return this.inbox.messages$;
  }

  /** @internal For tests: true while messages$ is subscribed. */
  get isTraced(): boolean { return this.inbox.observed; }

  /** True once nothing more can arrive (closed, or ended by a dead message). */
  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  private settle(w: Waiter, msg: Message): void {
    if (w.timer) clearTimeout(w.timer);
    this.router.broker.release();
    if (msg.isDead) w.reject(new ChannelError(msg.deadReason()));
    else w.resolve(msg);
  }

  /** True when no message is waiting. */
  empty(): boolean {
    return this.queue.length === 0;
  }

  /** The next message. `timeout` in seconds; TimeoutError when it passes, ChannelError when closed. */
  get(opts: { timeout?: number } = {}): Promise<Message> {
    const queued = this.queue.shift();
    if (queued) {
      return queued.isDead ? Promise.reject(new ChannelError(queued.deadReason())) : Promise.resolve(queued);
    }
    if (this.closedReason) return Promise.reject(new ChannelError(this.closedReason));
    return new Promise<Message>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      this.router.broker.hold();
      if (opts.timeout !== undefined) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          this.router.broker.release();
          reject(new TimeoutError(`Receiver.get() timed out after ${opts.timeout} seconds`));
        }, opts.timeout * 1000);
      }
      this.waiters.push(w);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for (;;) {
      let msg: Message;
      try {
        msg = await this.get();
      } catch (e) {
        if (e instanceof ChannelError) return;
        throw e;
      }
      yield msg;
    }
  }

  /** A Sender that writes to this Receiver, to pass to another context. */
  toSender(): Sender {
    return new Sender(this.router.myself(), this.handle);
  }

  /** Every message from now on, until the channel ends. */
  asObservable(): Observable<Message> {
    return new Observable<Message>((sub) => {
      // A subscriber waiting for messages keeps this process alive, as a pending get() does.
      this.router.broker.hold();
      let held = true;
      const release = (): void => { if (held) { held = false; this.router.broker.release(); } };
      const l = (m: Message): void => {
        if (m.isDead) { release(); sub.error(new ChannelError(m.deadReason())); } else sub.next(m);
      };
      for (const m of this.queue.splice(0)) l(m);
      if (this.closedReason && held) { release(); sub.error(new ChannelError(this.closedReason)); return undefined; }
      this.listeners.add(l);
      return () => { this.listeners.delete(l); release(); };
    });
  }

  /** Stops receiving: pending get() calls reject with ChannelError. */
  close(): void {
    if (this.closedReason) return;
    this.closedReason = Receiver.closedMsg;
    this.router.delHandler(this.handle);
    this.inbox.close();
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      this.router.broker.release();
      w.reject(new ChannelError(Receiver.closedMsg));
    }
    this.readyListener?.();
  }
}
