import test from 'ava';
import { CallError, CancelledError, fnRef, MitogenError, PoolQueueFullError } from '../src/index.js';
import { fixturesDir, hidingNodePath, routerFor } from './helpers.js';

/** A CPU-bound call that says where and when it ran (same-process clocks: comparable). */
const work = (n: number) => {
  const { threadId } = require('node:worker_threads');
  const start = performance.timeOrigin + performance.now();
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
  return { threadId: threadId as number, pid: process.pid, start, end: performance.timeOrigin + performance.now(), x };
};

test('a pool spreads 1,000 CPU calls over its threads, which run at the same time', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  const hostPid = await host.call(() => process.pid);
  const pool = await host.pool({ size: 4 });
  t.is(pool.threads.length, 4);
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.call(work, 20_000 + i)));
  t.is(results.length, 1000);
  // Every call ran in the host's process, on one of the pool's four threads (never its main thread).
  t.true(results.every((r) => r.pid === hostPid && r.threadId !== 0));
  const perThread = new Map<number, typeof results>();
  for (const r of results) perThread.set(r.threadId, [...(perThread.get(r.threadId) ?? []), r]);
  t.is(perThread.size, 4, 'all four threads took calls');
  for (const [id, rs] of perThread) t.true(rs.length >= 50, `thread ${id} ran only ${rs.length} of 1000 calls`);
  // Spread, not merely distributed: some calls on different threads overlapped in time.
  const sorted = [...results].sort((a, b) => a.start - b.start);
  const overlapped = sorted.some((r, i) => i > 0 && sorted.slice(Math.max(0, i - 8), i).some((q) => q.threadId !== r.threadId && q.end > r.start));
  t.true(overlapped, 'no two calls on different threads ran at the same time');
  t.is([...pool.completed.values()].reduce((a, b) => a + b, 0), 1000);
  await pool.close();
  t.is(pool.threads.length, 0);
});

test('a pool call follows ctx.call\'s rules: results, errors as CallError, fnRef and forwarded modules', async (t) => {
  const router = routerFor(t);
  const dir = `${fixturesDir}forwarding`;
  const host = await router.local({ nodePath: hidingNodePath(dir) });
  const pool = await host.pool({ size: 2 });
  t.deepEqual(await pool.call((a: number, b: string) => ({ a: a * 2, b: b.toUpperCase(), m: new Map([[1, 2]]) }), 21, 'x'), { a: 42, b: 'X', m: new Map([[1, 2]]) });
  const err = await t.throwsAsync(pool.call(() => { throw new RangeError('too far'); }), { instanceOf: CallError });
  t.is(err!.message, 'RangeError: too far');
  t.deepEqual(await pool.call(fnRef(`file://${dir}/esm/greet.ts`, 'greet'), 'q'), { text: 'hello q', doubled: 2 });
  t.is(await pool.call(async () => (await import('./fixtures/forwarding/esm/main.js')).answer), 42);
  t.is(await pool.call(() => require('./fixtures/forwarding/cjs/main.cjs').total), 42);
  await pool.close();
});

test('a pool in the master runs on threads of this process; onStart prepares each thread', async (t) => {
  const router = routerFor(t);
  const pool = await router.myself().pool({ size: 2, onStart: () => { (globalThis as Record<string, unknown>).ready = 'yes'; } });
  const rs = await Promise.all(Array.from({ length: 20 }, () => pool.call(() => ({ pid: process.pid, ready: (globalThis as Record<string, unknown>).ready }))));
  t.true(rs.every((r) => r.pid === process.pid && r.ready === 'yes'));
  t.is((globalThis as Record<string, unknown>).ready, undefined);
  await pool.close();
});

test('aborting a queued call rejects it with CancelledError and it never runs', async (t) => {
  const router = routerFor(t);
  const pool = await router.myself().pool({ size: 1, concurrentTasksPerThread: 1 });
  const blocker = new AbortController();
  const running = pool.callWith({ signal: blocker.signal }, () => new Promise(() => { /* never settles */ }));
  const queued = new AbortController();
  const waiting = pool.callWith({ signal: queued.signal }, () => { (globalThis as Record<string, unknown>).ran = true; return 'ran'; });
  t.is(pool.queued, 1);
  queued.abort();
  await t.throwsAsync(waiting, { instanceOf: CancelledError, message: /cancelled/ });
  t.is(pool.queued, 0);
  // Ending the blocker frees the thread; the cancelled call did not run in it.
  blocker.abort(new Error('done waiting'));
  await t.throwsAsync(running, { instanceOf: CancelledError, message: /done waiting/ });
  t.is(await pool.call(() => (globalThis as Record<string, unknown>).ran ?? 'never ran'), 'never ran');
  await t.throwsAsync(pool.callWith({ signal: AbortSignal.abort() }, () => 1), { instanceOf: CancelledError });
  await pool.close();
});

test('aborting a running CPU-bound call ends its thread and the pool starts another', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  const pool = await host.pool({ size: 1 });
  const [before] = pool.threads;
  const ac = new AbortController();
  const spinning = pool.callWith({ signal: ac.signal }, () => { for (;;) { /* never returns */ } });
  // Dispatched to the pool's only thread: counted as running, nothing queued.
  t.is(pool.running, 1);
  ac.abort();
  await t.throwsAsync(spinning, { instanceOf: CancelledError });
  await before!.disconnected();
  t.true(before!.isDisconnected);
  t.is(await pool.call(() => 'fresh thread'), 'fresh thread');
  t.is(pool.threads.length, 1);
  t.not(pool.threads[0]!.contextId, before!.contextId);
  t.is(await host.call(() => 'host alive'), 'host alive');
  await pool.close();
});

test('the queue is bounded; close({ force }) cancels what waits and runs; a closed pool refuses calls', async (t) => {
  const router = routerFor(t);
  const pool = await router.myself().pool({ size: 1, maxQueue: 2 });
  const never = () => new Promise(() => { /* never settles */ });
  // Two are sent to the thread (the default concurrentTasksPerThread), two wait.
  const calls = [pool.call(never), pool.call(never), pool.call(never), pool.call(never)];
  t.is(pool.running, 2);
  t.is(pool.queued, 2);
  await t.throwsAsync(pool.call(never), { instanceOf: PoolQueueFullError, message: /queue is full \(2 calls waiting\)/ });
  const [thread] = pool.threads;
  await pool.close({ force: true });
  for (const c of calls) await t.throwsAsync(c, { instanceOf: CancelledError });
  t.true(thread!.isDisconnected);
  await t.throwsAsync(pool.call(() => 1), { instanceOf: MitogenError, message: 'pool is closed' });
});

test('a pool size that is not a positive integer is refused, naming it', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.myself().pool({ size: 0 }), { instanceOf: RangeError, message: /pool size must be a positive integer, not 0/ });
});
