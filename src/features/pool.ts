/**
 * Pool: stateless CPU fan-out over worker threads of one context. Each thread
 * is a fork of that context (its own isolate and dispatcher, routed like any
 * context), so a pool call obeys the same rules as `ctx.call`: a function by
 * its source or an `fnRef`, modules forwarded on demand. The scheduling lives
 * with the caller: a call goes to the thread with the fewest calls running,
 * waits in a bounded queue when every thread is busy, and an AbortSignal
 * takes it out of the queue — or, once running, ends its thread (a running
 * function cannot be interrupted otherwise) and starts a fresh one.
 *
 * Why not piscina: see the README's "Packages" paragraph.
 */
import { availableParallelism } from 'node:os';
import { CancelledError, MitogenError, PoolQueueFullError } from '../wire/errors.js';
import type { AnyFunction, CallArgs, CallResult, FnRef } from '../wire/call.js';
import type { ContextView, RouterView } from '../runtime/context-view.js';
import type { ForkOptions } from '../../transports/fork.js';

export interface PoolOptions {
  /** Threads in the pool; default: the context's available parallelism. */
  size?: number;
  /** Calls that may wait for a thread; more are refused with PoolQueueFullError. Default 10,000. */
  maxQueue?: number;
  /**
   * Calls sent to one thread at once. Default 2: the next call waits in the
   * thread itself, so the round trip to it overlaps the call before it.
   */
  concurrentTasksPerThread?: number;
  /** Each thread's start function and heap limits, as `router.fork` takes them. */
  onStart?: ForkOptions['onStart'];
  resourceLimits?: ForkOptions['resourceLimits'];
}

export interface PoolCallOptions {
  /** Aborting rejects the call with CancelledError: queued, it never runs; running, its thread is ended. */
  signal?: AbortSignal;
}

interface Task<C> {
  body: [AnyFunction | FnRef, unknown[]];
  resolve(v: unknown): void;
  reject(e: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
  thread?: Slot<C>;
}

interface Slot<C> { ctx: C; running: Set<Task<C>> }

/** `C`: what the router that forks the threads makes of them (Contexts, for ctx.pool()). */
export class Pool<C extends ContextView = ContextView> {
  /** The threads now serving calls (a thread ended by a cancellation is replaced). */
  readonly threads: C[] = [];
  private readonly slots: Slot<C>[] = [];
  private readonly queue: Task<C>[] = [];
  private readonly maxQueue: number;
  private readonly perThread: number;
  private closed = false;
  private started = 0;
  /** Calls completed per thread id, for anyone who wants to see the spread. */
  readonly completed = new Map<number, number>();

  private constructor(private readonly router: RouterView<C>, private readonly host: C, private readonly opts: PoolOptions, readonly size: number) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.perThread = Math.max(1, opts.concurrentTasksPerThread ?? 2);
  }

  /** @internal Use `ctx.pool(opts)`: threads `router` forks in `host`. */
  static async start<C extends ContextView>(router: RouterView<C>, host: C, opts: PoolOptions = {}): Promise<Pool<C>> {
    // The host's cores: asked of it, unless it is this context (which does not call itself).
    const size = opts.size ?? (host.contextId === router.myId
      ? availableParallelism()
      : await host.call(() => require('node:os').availableParallelism() as number));
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer, not ${size}`);
    const pool = new Pool(router, host, opts, size);
    const started = await Promise.allSettled(Array.from({ length: size }, () => pool.addThread()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  /** Calls waiting for a thread. */
  get queued(): number { return this.queue.length; }

  /** Calls running now. */
  get running(): number { return this.slots.reduce((n, s) => n + s.running.size, 0); }

  /** Runs `fn(...args)` on the least busy thread. */
  call<F extends AnyFunction | FnRef>(fn: F, ...args: CallArgs<F>): Promise<CallResult<F>> {
    return this.callWith({}, fn, ...args);
  }

  /** As `call`, with per-call options (an AbortSignal). */
  callWith<F extends AnyFunction | FnRef>(opts: PoolCallOptions, fn: F, ...args: CallArgs<F>): Promise<CallResult<F>> {
    if (this.closed) return Promise.reject(new MitogenError('pool is closed'));
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<CallResult<F>>((resolve, reject) => {
      const task: Task<C> = { body: [fn, args], resolve: resolve as (v: unknown) => void, reject, signal };
      if (signal) {
        task.onAbort = () => this.abort(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      const slot = this.freeSlot();
      if (slot) this.run(task, slot);
      else if (this.queue.length >= this.maxQueue) this.settle(task, new PoolQueueFullError(`pool queue is full (${this.maxQueue} calls waiting); raise maxQueue or wait`));
      else this.queue.push(task);
    });
  }

  /**
   * Stops taking calls, then shuts the threads down. Queued and running calls
   * finish first — unless `force`, which rejects them with CancelledError and
   * ends their threads at once.
   */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (opts.force) {
      for (const t of this.queue.splice(0)) this.settle(t, new CancelledError('pool closed before the call ran'));
      for (const s of this.slots) for (const t of [...s.running]) this.settle(t, new CancelledError('pool closed while the call ran'));
    }
    while (this.queue.length || this.running) await this.idle();
    await Promise.all(this.slots.splice(0).map((s) => s.ctx.shutdown({ wait: true })));
    this.threads.length = 0;
  }

  // ------------------------------------------------------------ scheduling

  private idleWaiters: (() => void)[] = [];
  private idle(): Promise<void> { return new Promise((r) => this.idleWaiters.push(r)); }

  private async addThread(): Promise<void> {
    const { onStart, resourceLimits } = this.opts;
    const via = this.host.contextId === this.router.myId ? undefined : this.host;
    const ctx = await this.router.fork({ via, onStart, resourceLimits, name: `${this.host.name}.pool.${this.started++}` });
    const slot: Slot<C> = { ctx, running: new Set() };
    this.slots.push(slot);
    this.threads.push(ctx);
    this.pump();
  }

  private freeSlot(): Slot<C> | undefined {
    let best: Slot<C> | undefined;
    for (const s of this.slots) if (s.running.size < this.perThread && (!best || s.running.size < best.running.size)) best = s;
    return best;
  }

  private run(task: Task<C>, slot: Slot<C>): void {
    task.thread = slot;
    slot.running.add(task);
    const [fn, args] = task.body;
    slot.ctx.call(fn as AnyFunction, ...args).then(
      (v) => { this.count(slot); this.settle(task, undefined, v); },
      (e: Error) => this.settle(task, e),
    );
  }

  private count(slot: Slot<C>): void {
    this.completed.set(slot.ctx.contextId, (this.completed.get(slot.ctx.contextId) ?? 0) + 1);
  }

  private settle(task: Task<C>, error?: Error, value?: unknown): void {
    if (task.onAbort) task.signal!.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
    const slot = task.thread;
    if (slot && !slot.running.delete(task)) return; // already settled (cancelled while running)
    if (error) task.reject(error); else task.resolve(value);
    this.pump();
  }

  private pump(): void {
    for (let slot = this.freeSlot(); slot && this.queue.length; slot = this.freeSlot()) this.run(this.queue.shift()!, slot);
    if (!this.queue.length && !this.running) for (const w of this.idleWaiters.splice(0)) w();
  }

  private abort(task: Task<C>): void {
    const err = cancelled(task.signal!);
    const i = this.queue.indexOf(task);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(task, err);
      return;
    }
    const slot = task.thread;
    if (!slot?.running.has(task)) return;
    // The function cannot be stopped inside its thread: end the thread, start
    // another. Calls sharing that thread are not rerun (that could double
    // them): they reject with ChannelError as its context disconnects.
    const j = this.slots.indexOf(slot);
    if (j >= 0) this.slots.splice(j, 1);
    const k = this.threads.indexOf(slot.ctx);
    if (k >= 0) this.threads.splice(k, 1);
    this.settle(task, err);
    void slot.ctx.shutdown();
    if (!this.closed) this.addThread().catch((e: Error) => this.failQueue(e));
  }

  private failQueue(e: Error): void {
    if (this.slots.length) return;
    for (const t of this.queue.splice(0)) this.settle(t, e);
  }
}

function cancelled(signal: AbortSignal): CancelledError {
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new CancelledError(`pool call cancelled${why}`);
}
