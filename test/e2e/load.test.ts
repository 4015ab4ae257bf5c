/** Load and leaks, quick forms: every call settles exactly once; cycles leave nothing behind. */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { CallError, ChannelError, Router } from '../../src/index.js';
import { pidAlive, routerFor } from '../helpers.js';

test('10,000 concurrent calls over 10 children while one is SIGKILLed: each settles exactly once; survivors keep working', async (t) => {
  const router = routerFor(t);
  const children = await Promise.all(Array.from({ length: 10 }, () => router.local()));
  const pids = await Promise.all(children.map((c) => c.call(() => process.pid)));
  const settled = new Map<number, string>();
  // Replies as the router receives them, per handle: a call answered twice shows here
  // (its promise cannot settle twice, so counting settlements would never see it).
  const childIds = new Set(children.map((c) => c.contextId));
  const replies = new Map<number, { live: number; dead: number }>();
  router.onReceive = (m) => {
    if (!childIds.has(m.srcId) && !m.isDead) return;
    const r = replies.get(m.handle) ?? { live: 0, dead: 0 };
    if (m.isDead) r.dead++; else r.live++;
    replies.set(m.handle, r);
  };
  // Each call's reply handle is the next one the router hands out: they lie between these two.
  const firstHandle = router.addHandler(() => {});
  router.delHandler(firstHandle);
  const calls = Array.from({ length: 10_000 }, (_, i) => {
    const ctx = children[i % 10]!;
    return ctx.call(async (n: number) => { await new Promise((r) => setImmediate(r)); return n; }, i).then(
      (v) => { settled.set(i, v === i ? 'ok' : `wrong ${v}`); },
      (e: unknown) => { settled.set(i, e instanceof ChannelError ? 'channel' : `other ${(e as Error).name}`); },
    );
  });
  const lastHandle = router.addHandler(() => {});
  router.delHandler(lastHandle);
  t.is(lastHandle - firstHandle - 1, 10_000, 'one reply handle per call');
  process.kill(pids[3]!, 'SIGKILL'); // 1 of 10 children (the 5% of 10, rounded up), mid-flight
  await Promise.all(calls);
  t.is(settled.size, 10_000, 'every call settled');
  // Anything still on its way (a reply the killed child wrote as it died) has arrived once the survivors answer again.
  for (const [i, c] of children.entries()) if (i !== 3) t.is(await c.call((x: number) => x + 1, i), i + 1);
  const callReplies = [...replies].filter(([h]) => h > firstHandle && h < lastHandle);
  const twice = callReplies.filter(([, r]) => r.live > 1);
  t.deepEqual(twice.slice(0, 5), [], `${twice.length} calls were answered more than once`);
  const ok = [...settled.values()].filter((k) => k === 'ok').length;
  t.is(callReplies.filter(([, r]) => r.live === 1).length, ok, 'every call that returned had its one reply counted');
  const kinds = new Map<string, number>();
  for (const [i, k] of settled) {
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
    if (i % 10 !== 3) t.is(k, 'ok', `call ${i} to a survivor`);
  }
  t.false([...kinds.keys()].some((k) => k.startsWith('wrong') || k.startsWith('other')), JSON.stringify([...kinds]));
  t.log(JSON.stringify(Object.fromEntries(kinds)));
  await t.throwsAsync(children[3]!.call(() => 1), { instanceOf: ChannelError });
});

test('start, call and shut down 40 times: no growth in fds, child processes or worker threads', async (t) => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const threads = (): number => readdirSync('/proc/self/task').length;
  const cycle = async (): Promise<number> => {
    const router = new Router();
    const c = await router.local();
    const pid = await c.call(() => process.pid);
    await t.throwsAsync(c.call(() => { throw new Error('x'); }), { instanceOf: CallError });
    await router.shutdown();
    return pid;
  };
  for (let i = 0; i < 5; i++) await cycle(); // warm up: lazily created handles and pools
  (globalThis as { gc?: () => void }).gc?.();
  const before = { fds: fds(), threads: threads(), heap: process.memoryUsage().heapUsed };
  const pids: number[] = [];
  for (let i = 0; i < 40; i++) pids.push(await cycle());
  (globalThis as { gc?: () => void }).gc?.();
  const after = { fds: fds(), threads: threads(), heap: process.memoryUsage().heapUsed };
  t.log(JSON.stringify({ before, after }));
  t.true(after.fds <= before.fds + 2, `fds ${before.fds} -> ${after.fds}`);
  t.true(after.threads <= before.threads + 1, `threads ${before.threads} -> ${after.threads}`);
  t.true(after.heap - before.heap < 16 * 2 ** 20, `heap grew ${((after.heap - before.heap) / 2 ** 20).toFixed(1)} MiB`);
  t.deepEqual(pids.filter(pidAlive), [], 'no child process left');
});
