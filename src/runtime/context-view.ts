/**
 * What the code built on a context (deadlines, receivers and senders,
 * observe, spawn and exec, file transfers, pools) needs of it and of its
 * router. Context and Router implement these; the features import only this
 * file, so the imports run one way: router -> context -> features -> here.
 * The two views name each other (a context's router, a router's own
 * context), hence one file.
 */
import type { Observable } from 'rxjs';
import type { CallToCome } from '../modules/module-wire.js';
import type { ForkOptions } from '../../transports/fork.js';
import type { Broker } from './broker.js';
import type { AnyFunction, CallArgs, CallResult, CallWithOptions, FnRef } from '../wire/call.js';
import type { FlowWindow } from '../features/flow-window.js';
import type { Message, MessageRouter } from '../wire/message.js';

/** Whether a handler takes `msg` (dead messages are never refused). */
export type Policy = (msg: Message, router: RouterView) => boolean;

export interface HandlerOptions {
  handle?: number;
  /** Keep the handler after its first message (default true, as in Mitogen). */
  persist?: boolean;
  policy?: Policy;
  /** When this context disconnects the handler receives a dead message. */
  respondent?: ContextView;
}

/** A context anywhere in the tree, as the code that works through it sees it. */
export interface ContextView {
  readonly contextId: number;
  readonly name: string;
  /** The router of this process that reaches it. */
  readonly router: RouterView;
  readonly isDisconnected: boolean;
  /** @internal Until the child has started: call deadlines begin after it. */
  readonly starting?: Promise<void>;
  /** @internal The window (bytes) the latest observe stream from it grew to: the next one starts there. */
  learnedWindow: number;
  /** Sends a message to it (its dstId is set here). */
  send(msg: Message): void;
  call<F extends AnyFunction | FnRef>(fn: F, ...args: CallArgs<F>): Promise<CallResult<F>>;
  callWith<F extends AnyFunction | FnRef>(opts: CallWithOptions, fn: F, ...args: CallArgs<F>): Promise<CallResult<F>>;
  observe<T>(fn: AnyFunction | FnRef, ...args: unknown[]): Observable<T> & AsyncIterable<T>;
  shutdown(opts?: { wait?: boolean }): Promise<void>;
}

/**
 * A context's router, as contexts and the code that works through them see
 * it. `C` is what stands for a context there: a Router's are Contexts.
 */
export interface RouterView<C extends ContextView = ContextView> extends MessageRouter {
  readonly myId: number;
  readonly name: string;
  /** Holding it keeps this process alive while something waits for a message. */
  readonly broker: Pick<Broker, 'hold' | 'release'>;
  readonly callTimeout: number | undefined;
  readonly observeWindow: FlowWindow;
  /** This router's own context. */
  myself(): C;
  isDisconnected(id: number): boolean;
  hasParentAuthority(authId: number): boolean;
  addHandler(fn: (msg: Message) => void, opts?: HandlerOptions): number;
  delHandler(handle: number): void;
  /** @internal A reply came after its call was given up on (counted in lateRepliesDropped). */
  noteLateReply(): void;
  /** @internal A call is being sent: the master gathers what it imports meanwhile. */
  prefetchCall(call: CallToCome): void;
  /** @internal Every message delivered on this thread's handle table while subscribed (Context.messages$ filters it). */
  readonly delivered$: Observable<Message>;
  /** A new context in a worker thread of this one (or of `via`). */
  fork(opts?: ForkOptions & { via?: C; name?: string }): Promise<C>;
}
