/**
 * Context: a handle on one context anywhere in the tree. Calls become
 * addressed messages to its CALL_FUNCTION handle; replies come back to a
 * handle of ours that fails with ChannelError if the context disconnects.
 * The features it offers see it, and its router, only as the views in
 * src/runtime/context-view.ts, so they need not import this file.
 */
import type { Remote } from 'comlink';
import { Observable } from 'rxjs';
import { RemoteObservable } from '../features/observe.js';
import { callerUrl, FnRef, fnRef, functionSource, needsCaller } from '../wire/call.js';
import type { AnyFunction, CallArgs, CallBody, CallResult, CallWithOptions } from '../wire/call.js';
import { callWithDeadline, describeFn } from './call-deadline.js';
import type { ContextView, RouterView } from './context-view.js';
import { WIRE_REF } from '../wire/codec.js';
import type { WireRef } from '../wire/codec.js';
import { MitogenError } from '../wire/errors.js';
import * as files from '../features/file-transfer.js';
import { exec as execIn } from '../features/exec.js';
import type { ExecOptions, ExecResult } from '../features/exec.js';
import { spawn as spawnIn } from '../features/spawn.js';
import type { SpawnedProcess, SpawnOptions } from '../features/spawn.js';
import type { FileTransferOptions } from '../features/file-transfer.js';
import { CALL_FUNCTION, SHUTDOWN } from '../wire/handles.js';
import { Message } from '../wire/message.js';
import { Pool } from '../features/pool.js';
import type { PoolOptions } from '../features/pool.js';
import { Receiver } from '../channels/receiver.js';

export class Context implements ContextView {
  /** The context this one was started through, if any. */
  via?: Context;
  /** @internal Until the child has started (its connect resolved while it was starting): call deadlines begin after it. */
  starting?: Promise<void>;
  /** @internal A child of the master that reads the master's own files (a fork, a plain local child): nothing is gathered ahead for its calls. */
  seesMasterFiles = false;
  /**
   * @internal The credit window (bytes) the latest observe stream from here grew to: the next one
   * starts there, as TCP caches what it learned of a route, instead of climbing from the default again.
   */
  learnedWindow = 0;
  private disconnectWaiters: (() => void)[] = [];

  constructor(readonly router: RouterView<Context>, readonly contextId: number, public name: string) {}

  get isDisconnected(): boolean {
    return this.router.isDisconnected(this.contextId);
  }

  /**
   * Every message this thread receives from this context (srcId ===
   * contextId) from the moment of subscribing: call replies, channel
   * messages, dead messages. For tracing: read them, don't change them (they
   * are the ones their handlers get). Costs nothing until subscribed.
   */
  get messages$(): Observable<Message> {
    return new Observable<Message>((sub) => this.router.delivered$.subscribe({
      next: (m) => { if (m.srcId === this.contextId) sub.next(m); },
      complete: () => sub.complete(),
    }));
  }

  // ---------------------------------------------------------------- calls

  /** Runs `fn(...args)` in this context and resolves with its result. */
  call<F extends AnyFunction | FnRef>(fn: F, ...args: CallArgs<F>): Promise<CallResult<F>> {
    if (this.router.callTimeout !== undefined) return this.callWith({}, fn, ...args);
    const msg = this.callMessage(fn, args);
    return new Promise<CallResult<F>>((resolve, reject) => {
      const broker = this.router.broker;
      msg.replyTo = this.router.addHandler((reply) => {
        broker.release();
        try {
          resolve(reply.decode() as CallResult<F>);
        } catch (e) {
          reject(e);
        }
      }, { persist: false, respondent: this });
      broker.hold();
      this.send(msg);
    });
  }

  /**
   * ctx.call with a deadline (`timeout`, seconds; default router.callTimeout)
   * and/or an AbortSignal: rejects with TimeoutError or CancelledError naming
   * this context and the function. The function keeps running there unless
   * it checks `currentCall().signal`, which aborts when the caller gives up;
   * its late reply is dropped (see src/runtime/call-deadline.ts).
   */
  callWith<F extends AnyFunction | FnRef>(opts: CallWithOptions, fn: F, ...args: CallArgs<F>): Promise<CallResult<F>> {
    try {
      return callWithDeadline<CallResult<F>>(this, this.callMessage(fn, args), describeFn(fn), opts ?? {});
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Starts a call and returns the Receiver its result arrives on. */
  callAsync<F extends AnyFunction | FnRef>(fn: F, ...args: CallArgs<F>): Receiver {
    const msg = this.callMessage(fn, args);
    const rx = new Receiver(this.router, { persist: false, respondent: this });
    msg.replyTo = rx.handle;
    this.send(msg);
    return rx;
  }

  /** Runs a call without waiting for (or getting) a result. */
  callNoReply<F extends AnyFunction | FnRef>(fn: F, ...args: CallArgs<F>): void {
    this.send(this.callMessage(fn, args));
  }

  private callBody(fn: AnyFunction | FnRef, args: unknown[]): CallBody {
    if (fn instanceof FnRef) {
      if (!this.seesMasterFiles && fn.url.startsWith('file:')) this.router.prefetchCall({ url: fn.url });
      return [null, fn.url, fn.exportName, args, null];
    }
    if (typeof fn !== 'function') throw new TypeError(`call() takes a function or fnRef(), not ${typeof fn}`);
    const src = functionSource(fn);
    const caller = needsCaller(src) ? callerUrl() : null;
    if (caller && !this.seesMasterFiles) this.router.prefetchCall({ source: src, caller });
    return [src, null, null, args, caller];
  }

  private callMessage(fn: AnyFunction | FnRef, args: unknown[]): Message {
    return Message.encoded(this.callBody(fn, args), { dstId: this.contextId, handle: CALL_FUNCTION }, this.router.codecContext);
  }

  /**
   * A typed proxy for a module's exports in this context: `m.fn(...args)`
   * calls `fn` there. The module is imported (forwarded if need be) first, so
   * a missing module fails here, naming it.
   */
  async import<T>(moduleUrl: string | URL): Promise<Remote<T>> {
    const url = fnRef(moduleUrl).url;
    const names = await this.call(async (u: string) => Object.keys(await import(u)), url);
    const known = new Set(names);
    return new Proxy({} as Remote<T>, {
      get: (_t, prop) => {
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        if (!known.has(prop)) throw new MitogenError(`module ${url} has no export named ${prop} in ${this.name}`);
        return (...args: unknown[]) => this.call(fnRef(url, prop), ...args);
      },
      has: (_t, prop) => typeof prop === 'string' && known.has(prop),
      ownKeys: () => [...known],
      getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' && known.has(prop)
        ? { configurable: true, enumerable: true, value: (...args: unknown[]) => this.call(fnRef(url, prop), ...args) }
        : undefined),
    });
  }

  /**
   * fn runs in this context and returns an Observable or an AsyncIterable (an
   * async generator, say); the result here is a cold Observable: subscribing
   * starts it there, values arrive in order under credit-based flow control,
   * a remote error arrives as a CallError, and unsubscribing tears it down
   * there. `for await` over it pulls with backpressure.
   */
  observe<T>(fn: AnyFunction | FnRef, ...args: unknown[]): RemoteObservable<T> {
    return new RemoteObservable<T>(this, this.callBody(fn, args), this.router.observeWindow);
  }

  /**
   * A pool of worker threads in this context for stateless CPU fan-out:
   * `pool.call(fn, ...args)` runs on the least busy thread (see src/features/pool.ts).
   */
  pool(opts: PoolOptions = {}): Promise<Pool<Context>> {
    return Pool.start(this.router, this, opts);
  }

  /**
   * Runs a command in this context: `exec('uname -r')` through /bin/sh, or
   * `exec(file, args)` without a shell; resolves `{ code, signal, stdout,
   * stderr }`. With `check: true` a non-zero exit rejects with ExecError.
   */
  exec(command: string, argsOrOpts?: string[] | ExecOptions, opts?: ExecOptions): Promise<ExecResult> {
    if (Array.isArray(argsOrOpts)) return execIn(this, command, argsOrOpts, opts);
    return execIn(this, command, null, argsOrOpts ?? opts);
  }

  /**
   * Starts a process in this context and returns its handle at once: live
   * stdout/stderr (flow-controlled), stdin, kill() and exit (see src/features/spawn.ts).
   * `spawn('ls -l | wc')` runs through /bin/sh; `spawn(file, args)` does not.
   */
  spawn(command: string, argsOrOpts?: string[] | SpawnOptions, opts?: SpawnOptions): SpawnedProcess {
    if (Array.isArray(argsOrOpts)) return spawnIn(this, command, argsOrOpts, opts);
    return spawnIn(this, command, undefined, argsOrOpts ?? opts);
  }

  // ---------------------------------------------------------------- messages

  /** Sends a message to this context (its dstId is set here). */
  send(msg: Message): void {
    msg.dstId = this.contextId;
    this.router.route(msg);
  }

  /** Sends a message and returns the Receiver its replies arrive on. */
  sendAsync(msg: Message, opts: { persist?: boolean } = {}): Receiver {
    const rx = new Receiver(this.router, { persist: opts.persist ?? false, respondent: this });
    msg.replyTo = rx.handle;
    this.send(msg);
    return rx;
  }

  // ---------------------------------------------------------------- files

  /** Streams a local file to `remotePath` in this context (see src/features/file-transfer.ts). */
  putFile(localPath: string, remotePath: string, opts?: FileTransferOptions): Promise<void> {
    return files.putFile(this, localPath, remotePath, opts);
  }

  /** Streams `remotePath` in this context to a local file (see src/features/file-transfer.ts). */
  getFile(remotePath: string, localPath: string, opts?: FileTransferOptions): Promise<void> {
    return files.getFile(this, remotePath, localPath, opts);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Asks the context to shut down (its children first). With `wait`, resolves
   * once it has disconnected — at once if it already had (Mitogen would block).
   */
  async shutdown(opts: { wait?: boolean } = {}): Promise<void> {
    if (this.isDisconnected) return;
    const gone = opts.wait ? this.disconnected() : undefined;
    this.send(Message.encoded(null, { handle: SHUTDOWN }));
    if (gone) {
      this.router.broker.hold();
      try { await gone; } finally { this.router.broker.release(); }
    }
  }

  /** Resolves when this context disconnects. */
  disconnected(): Promise<void> {
    if (this.isDisconnected) return Promise.resolve();
    return new Promise((resolve) => this.disconnectWaiters.push(resolve));
  }

  /** @internal */
  onDisconnect(): void {
    for (const w of this.disconnectWaiters.splice(0)) w();
  }

  [WIRE_REF](): WireRef {
    return ['context', this.contextId, this.name];
  }

  toString(): string {
    return `Context(${this.contextId}, ${JSON.stringify(this.name)})`;
  }
}

