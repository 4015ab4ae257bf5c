import test from 'ava';
import os from 'node:os';
import { CallError, CancelledError, currentRouter, fnRef, MitogenError, PoolQueueFullError, Receiver } from '../../src/index.js';
import type { Sender } from '../../src/index.js';
import { fixturesDir, hidingNodePath, routerFor } from '../helpers.js';

/** A CPU-bound call that says where it ran. */
const work = (n: number) => {
  const { threadId } = require('node:worker_threads');
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
  return { threadId: threadId as number, pid: process.pid, x };
};

/**
 * Runs in a pool thread: reports its thread on `arrived` with a Sender to wake
 * it, then waits to be woken. Calls like this can all finish only if they are
 * all running at once.
 */
const rendezvous = async (arrived: Sender) => {
  const { threadId } = require('node:worker_threads');
  const wake = new Receiver(currentRouter()!);
  arrived.send({ threadId: threadId as number, wake: wake.toSender() });
  await wake.get();
  return threadId as number;
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
  t.is([...pool.completed.values()].reduce((a, b) => a + b, 0), 1000);
  // At the same time, shown by a rendezvous: eight calls (two per thread) each wait until
  // all eight have arrived, which they can only do if every thread is running its calls at once.
  const arrivals = new Receiver(router);
  const meeting = Array.from({ length: 8 }, () => pool.call(rendezvous, arrivals.toSender()));
  const arrived: { threadId: number; wake: Sender }[] = [];
  for (let i = 0; i < 8; i++) arrived.push((await arrivals.get({ timeout: 30 })).decode() as (typeof arrived)[number]);
  t.is(new Set(arrived.map((a) => a.threadId)).size, 4, 'all four threads were in the rendezvous together');
  for (const a of arrived) a.wake.send('go');
  t.deepEqual((await Promise.all(meeting)).sort(), arrived.map((a) => a.threadId).sort());
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
  t.is(await pool.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), 42);
  t.is(await pool.call(() => require('../fixtures/forwarding/cjs/main.cjs').total), 42);
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
  // Each call reports here, outside the thread, when it runs.
  const runs = new Receiver(router);
  const gate = new Receiver(router);
  // Holds the only thread until woken; the thread lives on, so a call left in the queue would run in it after.
  const blocker = pool.call(async (ran: Sender, gate: Sender) => {
    const wake = new Receiver(currentRouter()!);
    ran.send('blocker');
    gate.send(wake.toSender());
    await wake.get();
    return 'released';
  }, runs.toSender(), gate.toSender());
  const queued = new AbortController();
  const waiting = pool.callWith({ signal: queued.signal }, (ran: Sender) => { ran.send('cancelled call'); return 'ran'; }, runs.toSender());
  t.is(pool.queued, 1);
  queued.abort();
  await t.throwsAsync(waiting, { instanceOf: CancelledError, message: /cancelled/ });
  t.is(pool.queued, 0);
  // Queued behind where the cancelled call was: runs on the same thread once the blocker returns.
  const after = pool.call((ran: Sender) => { ran.send('after'); return 'after'; }, runs.toSender());
  ((await gate.get({ timeout: 30 })).decode() as Sender).send('go');
  t.is(await blocker, 'released');
  t.is(await after, 'after');
  const seen: string[] = [];
  while (seen.at(-1) !== 'after' && seen.length < 3) seen.push((await runs.get({ timeout: 30 })).decode() as string);
  t.deepEqual(seen, ['blocker', 'after'], 'the cancelled call never ran');
  // Aborting a running call names the reason.
  const ac = new AbortController();
  const running = pool.callWith({ signal: ac.signal }, () => new Promise(() => { /* never settles */ }));
  ac.abort(new Error('done waiting'));
  await t.throwsAsync(running, { instanceOf: CancelledError, message: /done waiting/ });
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

test('pool defaults: one thread per core the host may use, and up to 10,000 calls waiting', async (t) => {
  const router = routerFor(t);
  // The host may use one core (its affinity), whatever the master has: the default is the host's.
  t.true(os.availableParallelism() > 1, 'the master has more than one core, so the two counts differ');
  const host = await router.local({ nodePath: ['taskset', '-c', '0', 'node'] });
  const pool = await host.pool({ concurrentTasksPerThread: 1 });
  t.is(pool.threads.length, 1);
  const never = () => new Promise(() => { /* never settles */ });
  const calls = Array.from({ length: 1 + 10_000 }, () => pool.call(never));
  t.is(pool.running, 1);
  t.is(pool.queued, 10_000);
  await t.throwsAsync(pool.call(never), { instanceOf: PoolQueueFullError, message: /queue is full \(10000 calls waiting\)/ });
  await pool.close({ force: true });
  t.true((await Promise.allSettled(calls)).every((r) => r.status === 'rejected' && r.reason instanceof CancelledError));
});

// The default size is this process's cores when the host is this context (it does not call itself).
test('a pool in the master without a size gets one thread per core of this process', async (t) => {
  const router = routerFor(t);
  const pool = await router.myself().pool();
  t.is(pool.threads.length, os.availableParallelism());
  await pool.close();
});
