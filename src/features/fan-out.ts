/**
 * fanOut(): one function run against many targets, as fleet tools do it.
 * At most `concurrency` targets are being worked on at once; each has its own
 * deadline, so a dead host costs its own slot and nothing else; connection
 * failures may be retried; every step is an event, and `done` resolves with
 * the summary — it never rejects for a target's failure.
 */
import { ReplaySubject } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Context } from '../runtime/context.js';
import { CancelledError, MitogenError, TimeoutError } from '../wire/errors.js';
import type { Router } from '../runtime/router.js';
import type { SshOptions } from '../../transports/ssh.js';

/** An ssh-config alias or host name, ssh options, or a function that connects (or hands over a kept context). */
export type FanOutTarget = string | ({ method?: 'ssh' } & SshOptions & Record<string, unknown>) | (() => Promise<Context>);

export interface FanOutOptions {
  /** Targets worked on at once (default 32). */
  concurrency?: number;
  /** Seconds each target may take, connecting and running `fn` together. */
  timeout?: number;
  /** Stops starting targets; those under way are given up with CancelledError. */
  signal?: AbortSignal;
  /** Further attempts to connect after a failure to connect (default 0). `fn`'s own failures are not retried. */
  retries?: number;
  /** Keep each connected context (in the summary) for a second round, instead of shutting it down. */
  keep?: boolean;
}

interface Base<T> { target: T; index: number }
export type FanOutEvent<T, R> =
  | (Base<T> & { type: 'connecting'; attempt: number })
  | (Base<T> & { type: 'connected'; ms: number })
  | (Base<T> & { type: 'done'; ms: number; result: R })
  | (Base<T> & { type: 'failed'; ms: number; error: Error });

export interface FanOutOk<T, R> extends Base<T> { result: R; ms: number; context?: Context }
export interface FanOutFailure<T> extends Base<T> { error: Error; ms: number }
export interface FanOutSummary<T, R> { ok: FanOutOk<T, R>[]; failed: FanOutFailure<T>[]; ms: number }

export interface FanOut<T, R> {
  /** Every event, from the start (late subscribers get those already past). */
  events: Observable<FanOutEvent<T, R>>;
  done: Promise<FanOutSummary<T, R>>;
}

function nameOf(target: FanOutTarget): string {
  if (typeof target === 'string') return target;
  if (typeof target === 'function') return target.name || 'a connect function';
  return target.hostname;
}

function connectTo(router: Router, target: FanOutTarget): Promise<Context> {
  if (typeof target === 'function') return target();
  if (typeof target === 'string') return router.ssh({ hostname: target });
  const { method, ...opts } = target;
  if (method !== undefined && method !== 'ssh') throw new MitogenError(`fanOut: unknown method ${String(method)} for ${nameOf(target)} (a target is ssh options, an alias, or a function)`);
  return router.ssh(opts as SshOptions);
}

/** Runs `fn(ctx, target)` in the master for every target, connected to it. */
export function fanOut<T extends FanOutTarget, R>(
  router: Router, targets: readonly T[], fn: (ctx: Context, target: T) => Promise<R> | R, opts: FanOutOptions = {},
): FanOut<T, R> {
  const concurrency = opts.concurrency ?? 32;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`fanOut: concurrency must be a positive integer, not ${concurrency}`);
  const retries = opts.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new RangeError(`fanOut: retries must be an integer >= 0, not ${retries}`);
  if (opts.timeout !== undefined && !(opts.timeout > 0)) throw new RangeError(`fanOut: timeout must be a positive number of seconds, not ${opts.timeout}`);
  const events = new ReplaySubject<FanOutEvent<T, R>>();
  const started = performance.now();
  const ok: FanOutOk<T, R>[] = [];
  const failed: FanOutFailure<T>[] = [];

  const one = async (target: T, index: number): Promise<void> => {
    const t0 = performance.now();
    const ms = (): number => performance.now() - t0;
    let ctx: Context | undefined;
    let gaveUp: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      const fail = (e: Error): void => { gaveUp = e; reject(e); };
      if (opts.timeout !== undefined) {
        timer = setTimeout(() => fail(new TimeoutError(`fanOut: ${nameOf(target)} took longer than ${opts.timeout} s`)), opts.timeout * 1000);
      }
      onAbort = () => fail(new CancelledError(`fanOut: ${nameOf(target)} cancelled`));
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    stop.catch(() => {});
    try {
      for (let attempt = 1; ; attempt++) {
        events.next({ type: 'connecting', target, index, attempt });
        const connecting = connectTo(router, target);
        // Connected after the deadline (it was raced, not cancelled): shut it down then.
        connecting.then((c) => { if (gaveUp) void c.shutdown().catch(() => {}); }, () => {});
        try {
          ctx = await Promise.race([connecting, stop]);
          break;
        } catch (e) {
          if (gaveUp || attempt > retries) throw e;
        }
      }
      events.next({ type: 'connected', target, index, ms: ms() });
      const result = await Promise.race([Promise.resolve(fn(ctx, target)), stop]);
      ok.push({ target, index, result, ms: ms(), ...(opts.keep ? { context: ctx } : {}) });
      events.next({ type: 'done', target, index, ms: ms(), result });
    } catch (e) {
      const error = e instanceof Error ? e : new MitogenError(String(e));
      failed.push({ target, index, error, ms: ms() });
      events.next({ type: 'failed', target, index, ms: ms(), error });
    } finally {
      clearTimeout(timer);
      // One listener per target under way, not one per target ever started, on a signal that may be long-lived.
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      // A context given up on, or not kept, goes.
      if (ctx && (!opts.keep || gaveUp)) void ctx.shutdown().catch(() => {});
    }
  };

  const done = (async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length) {
        const i = next++;
        if (opts.signal?.aborted) {
          const error = new CancelledError(`fanOut: ${nameOf(targets[i]!)} cancelled before it started`);
          failed.push({ target: targets[i]!, index: i, error, ms: 0 });
          events.next({ type: 'failed', target: targets[i]!, index: i, ms: 0, error });
          continue;
        }
        await one(targets[i]!, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    events.complete();
    const byIndex = <X extends { index: number }>(a: X[]): X[] => a.sort((x, y) => x.index - y.index);
    return { ok: byIndex(ok), failed: byIndex(failed), ms: performance.now() - started };
  })();
  return { events: events.asObservable(), done };
}
