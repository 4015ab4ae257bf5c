/**
 * The called side of callWith's cancellation: each call the dispatcher runs
 * has a scope whose AbortSignal fires when its caller gives up (a
 * CANCEL_CALL message naming the call's reply handle). The signal is made
 * only when a function asks for it, so calls that never look cost a Map
 * entry and nothing more.
 */
import { CancelledError, TimeoutError } from '../wire/errors.js';

/** CANCEL_CALL's body: [the call's replyTo handle, why, the caller's message]. */
export type CancelBody = [number, 'timeout' | 'cancel', string];

/** What a function run by ctx.call or ctx.callWith can learn about its call. */
export interface CallInfo {
  /**
   * Aborts when the caller gives up on the call (callWith's timeout passed or
   * its signal fired); `signal.reason` is the TimeoutError or CancelledError.
   * Nothing stops the function otherwise: it must check this to stop early.
   */
  readonly signal: AbortSignal;
}

export class CallScope implements CallInfo {
  private controller?: AbortController;
  private reason?: Error;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** The scopes of the calls in flight in this context, by caller and reply handle. */
export class CallScopes {
  private readonly live = new Map<string, CallScope>();

  /** A scope for a call; only calls with a reply handle can be cancelled, so only those are kept. */
  open(srcId: number, replyTo: number): CallScope {
    const scope = new CallScope();
    if (replyTo) this.live.set(`${srcId}:${replyTo}`, scope);
    return scope;
  }

  close(srcId: number, replyTo: number): void {
    if (replyTo) this.live.delete(`${srcId}:${replyTo}`);
  }

  /** Aborts the call `srcId` made with reply handle `body[0]`; a call that has finished is ignored. */
  cancel(srcId: number, body: unknown): void {
    if (!Array.isArray(body) || typeof body[0] !== 'number') return;
    const [replyTo, kind, text] = body as CancelBody;
    const reason = kind === 'timeout' ? new TimeoutError(String(text)) : new CancelledError(String(text));
    this.live.get(`${srcId}:${replyTo}`)?.abort(reason);
  }
}
