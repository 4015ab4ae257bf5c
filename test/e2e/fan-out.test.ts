/**
 * fanOut() against the real sshd test hosts (h1..h20, one address that
 * answers nothing) and local contexts: results and failures per target,
 * bounded concurrency counted from the events, per-target deadlines,
 * retries, cancellation, and kept contexts for a second round.
 */
import { getEventListeners } from 'node:events';
import test from 'ava';
import { CancelledError, fanOut, StreamError, TimeoutError } from '../../src/index.js';
import type { Context, FanOutEvent } from '../../src/index.js';
import { routerFor } from '../helpers.js';
import { asUser1, deadAddress } from '../testbed.js';

const hostname = (ctx: Context): Promise<string> => ctx.call(() => require('node:os').hostname() as string);

/** The most targets between their first 'connecting' and their 'done' or 'failed'. */
function peakInFlight<T, R>(events: FanOutEvent<T, R>[]): number {
  let now = 0;
  let peak = 0;
  for (const e of events) {
    if (e.type === 'connecting' && e.attempt === 1) peak = Math.max(peak, ++now);
    if (e.type === 'done' || e.type === 'failed') now--;
  }
  return peak;
}

for (const client of ['ssh2', 'openssh'] as const) {
  test(`${client}: 20 hosts and one that is down: 20 results in order, one StreamError, at most 'concurrency' at once`, async (t) => {
    const router = routerFor(t);
    const targets = [
      ...Array.from({ length: 20 }, (_, i) => ({ ...asUser1(`h${i + 1}`), client })),
      { ...asUser1('h1'), hostname: deadAddress(), connectTimeout: 10, client },
    ];
    const run = fanOut(router, targets, hostname, { concurrency: 5 });
    const seen: FanOutEvent<unknown, string>[] = [];
    run.events.subscribe((e) => seen.push(e));
    const summary = await run.done;
    t.deepEqual(summary.ok.map((o) => o.result), Array.from({ length: 20 }, (_, i) => `h${i + 1}`));
    t.deepEqual(summary.failed.map((f) => f.index), [20]);
    t.true(summary.failed[0]!.error instanceof StreamError, String(summary.failed[0]!.error));
    const peak = peakInFlight(seen);
    t.true(peak > 1 && peak <= 5, `peak ${peak}`);
    t.is(seen.filter((e) => e.type === 'connected').length, 20);
  });
}

test('a target that takes longer than timeout fails with TimeoutError naming it; the others are not held up', async (t) => {
  const router = routerFor(t);
  // Connected beforehand, so the deadline bounds only fn: a call for the others, for ever for 'stuck'.
  const contexts = await Promise.all(['a', 'stuck', 'b'].map((name) => router.local({ name })));
  const targets = contexts.map((c) => Object.defineProperty(() => Promise.resolve(c), 'name', { value: c.name }));
  const summary = await fanOut(router, targets, async (ctx) => {
    if (ctx.name === 'stuck') await new Promise(() => {});
    return ctx.call((n: string) => n, ctx.name);
  }, { timeout: 10 }).done;
  t.deepEqual(summary.ok.map((o) => o.result), ['a', 'b']);
  t.is(summary.failed.length, 1);
  t.true(summary.failed[0]!.error instanceof TimeoutError);
  t.regex(summary.failed[0]!.error.message, /stuck took longer than 10 s/);
});

test('retries: a connection that fails once is tried again; without retries it is a failure', async (t) => {
  const router = routerFor(t);
  let tries = 0;
  const flaky = async (): Promise<Context> => {
    if (++tries === 1) throw new StreamError('first attempt refused');
    return router.local();
  };
  const events: FanOutEvent<unknown, number>[] = [];
  const run = fanOut(router, [flaky], (ctx) => ctx.call(() => 42), { retries: 1 });
  run.events.subscribe((e) => events.push(e));
  t.deepEqual((await run.done).ok.map((o) => o.result), [42]);
  t.deepEqual(events.filter((e) => e.type === 'connecting').map((e) => (e as { attempt: number }).attempt), [1, 2]);
  tries = 0;
  const none = await fanOut(router, [flaky], (ctx) => ctx.call(() => 42)).done;
  t.is(none.ok.length, 0);
  t.regex(none.failed[0]!.error.message, /first attempt refused/);
});

test('keep: the contexts stay for a second round, which connects nothing', async (t) => {
  const router = routerFor(t);
  const first = await fanOut(router, [() => router.local(), () => router.local()], (ctx) => ctx.call(() => process.pid), { keep: true }).done;
  t.is(first.ok.length, 2);
  const kept = first.ok.map((o) => o.context!);
  const second = await fanOut(router, kept.map((c) => () => Promise.resolve(c)), (ctx) => ctx.call(() => process.pid)).done;
  t.deepEqual(second.ok.map((o) => o.result), first.ok.map((o) => o.result), 'the same processes answered: nothing was reconnected');
  // keep was not given the second time: they are shut down.
  await Promise.all(kept.map((c) => c.disconnected()));
  t.true(kept.every((c) => c.isDisconnected));
});

test('an aborted signal: nothing starts, every target fails with CancelledError', async (t) => {
  const router = routerFor(t);
  let connects = 0;
  const summary = await fanOut(router, [1, 2, 3].map(() => () => { connects++; return router.local(); }), (ctx) => ctx.call(() => 1), { signal: AbortSignal.abort() }).done;
  t.is(connects, 0);
  t.is(summary.failed.length, 3);
  t.true(summary.failed.every((f) => f.error instanceof CancelledError));
});

test('a signal that never fires is left with no listener once the targets are done', async (t) => {
  const router = routerFor(t);
  const controller = new AbortController();
  const summary = await fanOut(router, [1, 2, 3].map(() => () => router.local()), (ctx) => ctx.call(() => 1), { signal: controller.signal }).done;
  t.is(summary.ok.length, 3);
  t.is(getEventListeners(controller.signal, 'abort').length, 0);
});

test('bad options are refused by name', (t) => {
  const router = routerFor(t);
  t.throws(() => fanOut(router, [], () => 1, { concurrency: 0 }), { instanceOf: RangeError, message: /concurrency/ });
  t.throws(() => fanOut(router, [], () => 1, { retries: -1 }), { instanceOf: RangeError, message: /retries/ });
  t.throws(() => fanOut(router, [], () => 1, { timeout: 0 }), { instanceOf: RangeError, message: /timeout/ });
});
