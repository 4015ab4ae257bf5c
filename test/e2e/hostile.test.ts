/** A child that misbehaves on the wire: the master never crashes or hangs, and nothing it claims is believed. */
import test from 'ava';
import { buildFrame, encodeBody } from '../../src/wire/codec.js';
import { ChannelError, Context, currentRouter, Message, Receiver, Sender } from '../../src/index.js';
import { handles } from '../../src/index.js';
import { DEFAULT_BLOCKS_PER_CONTEXT } from '../../actors/id-allocator.js';
import type { Lease } from '../../actors/id-allocator.js';
import { collectLogs, routerFor, waitUntil } from '../helpers.js';

test('garbage on a child\'s stream closes that stream with a logged reason; its calls reject; other children go on', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  const bad = await router.local({ name: 'corrupt' });
  const good = await router.local({ name: 'healthy' });
  const pending = bad.call(() => new Promise(() => {}));
  // fd 1 is the protocol: write bytes that are not a frame straight into it.
  bad.callNoReply(() => { require('node:fs').writeSync(1, Buffer.from('this is not a frame, not even close')); });
  await t.throwsAsync(pending, { instanceOf: ChannelError });
  t.true(bad.isDisconnected);
  await waitUntil(() => logs.some((r) => /corrupt disconnected: Corruption detected: frame signature incorrect/.test(r.text) && r.level === 'error'), 5, 'the reason is logged');
  t.is(await good.call(() => 'still fine'), 'still fine');
});

test('a child cannot claim routes it does not own: ADD_ROUTE for the master, a sibling or a foreign id is refused and logged', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  const a = await router.local();
  const b = await router.local();
  // Foreign: an id that lives elsewhere in the tree, under the sibling.
  const c = await router.local({ via: b });
  const claimed = [0, b.contextId, c.contextId];
  // Forged ADD_ROUTE frames, built here and sent by the child's broker as its own.
  const frames = claimed.map((id) => Array.from(buildFrame({ dstId: 0, srcId: a.contextId, authId: a.contextId, handle: handles.ADD_ROUTE, replyTo: 0 }, encodeBody([id, 'stolen']))));
  await a.call((raw: number[][]) => { for (const f of raw) currentRouter()!.broker.send(new Uint8Array(f)); }, frames);
  const refused = (): number[] => logs.flatMap((r) => {
    const m = new RegExp(`^refusing ADD_ROUTE\\((\\d+)\\) from ${a.name}: `).exec(r.text);
    return m ? [Number(m[1])] : [];
  });
  await waitUntil(() => refused().length >= 3, 5, 'all three claims are refused in the log');
  t.deepEqual(refused().sort((x, y) => x - y), [...claimed].sort((x, y) => x - y), 'each claim refused once, by its id');
  // Routing is unchanged: b and c still answer as themselves, and the master is still the master.
  t.is(await b.call(() => 'b'), 'b');
  t.is(await c.call(() => process.ppid), await b.call(() => process.pid));
  t.is(router.contextById(b.contextId)!.name.startsWith('local.'), true);
});

test('Context references a child makes up do not grow the master\'s table of contexts', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router);
  t.teardown(() => rx.close());
  const N = 10_000;
  // The child names N contexts that exist nowhere, and sends them to the master.
  await child.call((sender: Sender, n: number) => {
    const r = currentRouter()!;
    sender.send(Array.from({ length: n }, (_, i) => r.contextFor(1_000_000 + i, `made-up.${i}`)));
  }, rx.toSender(), N);
  const refs = (await rx.get({ timeout: 30 })).decode() as Context[];
  t.is(refs.length, N);
  t.true(refs.every((c, i) => c instanceof Context && c.contextId === 1_000_000 + i && c.name === `made-up.${i}`));
  // Working objects, not kept: the master knows none of those ids.
  t.is(router.contextById(1_000_000), undefined);
  t.is(router.contextById(1_000_000 + N - 1), undefined);
  // A known context named in a body is the master's own object.
  const back = await child.call((c: Context) => c, child);
  t.is(back, child);
});

test('a child asking ALLOCATE_ID in a loop is refused past its subtree\'s budget, with a logged reason; the master still starts children', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  const greedy = await router.local({ name: 'greedy' });
  const N = DEFAULT_BLOCKS_PER_CONTEXT + 3;
  // Requests straight to the master's broker; each reply is a Lease: {ok: true, value: {start, count}} or {ok: false, why}.
  const replies = await greedy.call(async (n: number, allocate: number) => {
    const r = currentRouter()!;
    const rx = new Receiver(r);
    for (let i = 0; i < n; i++) r.route(Message.encoded(null, { dstId: 0, handle: allocate, replyTo: rx.handle }));
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push((await rx.get({ timeout: 30 })).decode());
    rx.close();
    return out;
  }, N, handles.ALLOCATE_ID) as Lease[];
  const granted = replies.flatMap((r) => (r.ok ? [r.value] : []));
  const refused = replies.flatMap((r) => (r.ok ? [] : [r.why]));
  t.is(granted.length, DEFAULT_BLOCKS_PER_CONTEXT);
  t.is(refused.length, 3);
  // Blocks never overlap each other.
  const starts = granted.map((g) => g.start).sort((a, b) => a - b);
  t.true(starts.every((s, i) => i === 0 || s - starts[i - 1]! >= granted[0]!.count));
  t.regex(refused[0]!, /greedy.* and its descendants have already been leased 1000 blocks of 1000 ids/);
  await waitUntil(() => logs.filter((r) => r.level === 'warn' && /refusing ALLOCATE_ID from context \d+: greedy/.test(r.text)).length === 3, 5, 'each refusal is logged');
  // Another child's subtree has its own budget: it can still start a grandchild.
  const other = await router.local();
  const grandchild = await other.call(async () => (await currentRouter()!.local()).contextId);
  t.true(grandchild > starts[starts.length - 1]!);
  // And the greedy child, past its budget, is told why when it tries to start one.
  await t.throwsAsync(greedy.call(async () => { await currentRouter()!.local(); }), { message: /the master refused to allocate context ids: .*already been leased/ });
});
