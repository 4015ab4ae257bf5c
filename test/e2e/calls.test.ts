import test from 'ava';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { CallError, Context, fnRef, MitogenError, now, Receiver, Sender } from '../../src/index.js';
import { routerFor } from '../helpers.js';

test('sync and async functions run in the child and return their results', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  t.true(ctx instanceof Context);
  const childPid = await ctx.call(() => process.pid);
  t.not(childPid, process.pid);
  t.is(await ctx.call((a: number, b: number) => a * b, 6, 7), 42);
  t.is(await ctx.call(async (s: string) => { await new Promise((r) => setImmediate(r)); return s.toUpperCase(); }, 'abc'), 'ABC');
  t.is(await ctx.call(function named(x: number) { return x + 1; }, 1), 2);
  const obj = { method(x: number) { return x * 3; } };
  t.is(await ctx.call(obj.method, 5), 15);
});

test('every value type round-trips through a child', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const value = {
    n: 1, s: 'ü', b: false, nil: null, u: undefined, big: 2n ** 70n,
    bytes: new Uint8Array([1, 2, 3, 255]), date: new Date(1_700_000_000_123),
    map: new Map<unknown, unknown>([['k', new Set([1, 2])], [3, [4]]]),
    set: new Set(['a', 'b']), err: new RangeError('bad range'),
  };
  const back = await ctx.call((v: typeof value) => {
    // Check the types arrived as such in the child, then send them back.
    const ok = v.bytes instanceof Uint8Array && v.date instanceof Date && v.map instanceof Map
      && v.set instanceof Set && typeof v.big === 'bigint' && 'u' in v && v.u === undefined && v.err instanceof Error;
    return { ok, v };
  }, value);
  t.true(back.ok);
  t.deepEqual(back.v.map, value.map);
  t.deepEqual(back.v.set, value.set);
  t.is(back.v.big, value.big);
  t.deepEqual(back.v.bytes, value.bytes);
  t.is(back.v.date.getTime(), value.date.getTime());
  t.is(back.v.u, undefined);
  t.true(back.v.err instanceof Error);
  t.is(back.v.err.name, 'RangeError');
});

test('a Context and a Sender passed as arguments arrive working', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const b = await router.local({ via: a });
  const rx = new Receiver(router);
  // The child gets a Sender for our receiver and a Context for its own child.
  const got = await a.call(async (sender: Sender, grand: Context) => {
    sender.send({ from: process.pid });
    sender.send('second');
    sender.close();
    return grand.call((x: number) => x + process.pid * 0, 5);
  }, rx.toSender(), b);
  t.is(got, 5);
  const msgs: unknown[] = [];
  for await (const m of rx) msgs.push(m.decode());
  t.is(msgs.length, 2);
  t.deepEqual(msgs[1], 'second');
  t.is(typeof (msgs[0] as { from: number }).from, 'number');
});

test('values that cannot travel are refused on the side that tries to send them', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  class Thing { x = 1; }
  t.throws(() => ctx.call((x: unknown) => x, new Thing()), { instanceOf: TypeError, message: /Thing/ });
  const err = await t.throwsAsync(ctx.call(() => () => 1), { instanceOf: CallError });
  t.regex(err!.message, /^TypeError: cannot send a value of type function/);
  t.is(await ctx.call(() => 'still alive'), 'still alive');
});

test('a remote throw rejects with CallError naming the class and message, with the remote stack, and the context survives', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const err = await t.throwsAsync(ctx.call(() => { throw new TypeError('text'); }), { instanceOf: CallError });
  t.is(err!.message, 'TypeError: text');
  t.is(err!.type, 'TypeError');
  t.regex(err!.remoteStack, /TypeError: text\n\s+at /);
  const err2 = await t.throwsAsync(ctx.call(async () => { throw 'a string'; }), { instanceOf: CallError });
  t.is(err2!.message, 'Error: a string');
  t.is(await ctx.call(() => 'alive'), 'alive');
});

test('callAsync returns a Receiver whose first message holds the result; callNoReply runs without a reply', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const rx = ctx.callAsync((x: number) => x * 2, 21);
  t.true(rx instanceof Receiver);
  t.is((await rx.get({ timeout: 30 })).decode(), 42);
  const failing = ctx.callAsync(() => { throw new Error('nope'); });
  const msg = await failing.get({ timeout: 30 });
  t.throws(() => msg.decode(), { instanceOf: CallError, message: 'Error: nope' });

  const rx2 = new Receiver(router);
  ctx.callNoReply((s: Sender) => { s.send('ran'); }, rx2.toSender());
  t.is((await rx2.get({ timeout: 30 })).decode(), 'ran');
});

test('ctx.import gives a typed proxy over a module, and fnRef calls an export by name', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const url = new URL('../fixtures/tasks.ts', import.meta.url);
  const tasks = await ctx.import<typeof import('../fixtures/tasks.js')>(url);
  t.is(await tasks.add(2, 3), 5);
  const info = await tasks.whereAmI();
  t.is(info.pid, await ctx.call(() => process.pid));
  t.is(await ctx.call(fnRef(url, 'add'), 10, 20), 30);
  t.throws(() => (tasks as unknown as Record<string, unknown>).missing, { instanceOf: MitogenError, message: /no export named missing/ });
});

test('the child is titled mitogen:<remoteName>, by default <user>@<host>:<pid> of its parent', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const pid = await ctx.call(() => process.pid);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  t.true(cmdline.startsWith(`mitogen:${os.userInfo().username}@${os.hostname()}:${process.pid}`), cmdline);
  const named = await router.local({ remoteName: 'fleet-worker', name: 'worker-1' });
  t.is(named.name, 'worker-1');
  const pid2 = await named.call(() => process.pid);
  t.true(readFileSync(`/proc/${pid2}/cmdline`, 'utf8').startsWith('mitogen:fleet-worker'));
  t.regex(ctx.name, /^local\.\d+$/);
  t.is(ctx.name, `local.${pid}`);
});

test('now() is monotonic seconds', (t) => {
  // Read between two readings of the monotonic clock (performance.now(), from timeOrigin), in seconds:
  // a wall-clock now(), or one in milliseconds, falls outside.
  for (let i = 0; i < 100; i++) {
    const before = (performance.timeOrigin + performance.now()) / 1000;
    const n = now();
    const after = (performance.timeOrigin + performance.now()) / 1000;
    t.true(before <= n && n <= after, `now() ${n} not within [${before}, ${after}]`);
  }
});
