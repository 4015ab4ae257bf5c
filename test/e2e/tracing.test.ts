/**
 * Tracing through the actors' mailboxes: ctx.messages$, router.trace$ and
 * receiver.messages$ see what arrives while subscribed, and cost nothing
 * (no Subject) while nobody is.
 */
import test from 'ava';
import { Mailbox } from '../../actors/mailbox.js';
import { RouterActor } from '../../actors/router-actor.js';
import type { Header } from '../../src/wire/codec.js';
import type { Message, Router } from '../../src/index.js';
import { currentRouter, Receiver } from '../../src/index.js';
import type { TraceRecord } from '../../src/runtime/router.js';
import { routerFor } from '../helpers.js';

test('a Mailbox makes its Subject only while subscribed, and delivers plainly either way', (t) => {
  const got: number[] = [];
  const box = new Mailbox<number>((n) => got.push(n));
  box.post(1);
  t.false(box.observed);
  const seen: number[] = [];
  const sub = box.messages$.subscribe((n) => seen.push(n));
  t.true(box.observed);
  box.post(2);
  sub.unsubscribe();
  t.false(box.observed);
  box.post(3);
  t.deepEqual(got, [1, 2, 3]);
  t.deepEqual(seen, [2]);
});

test('a closed Mailbox completes its observers and delivers nothing more', (t) => {
  const got: number[] = [];
  const box = new Mailbox<number>((n) => got.push(n));
  let completed = 0;
  box.messages$.subscribe({ complete: () => completed++ });
  box.close();
  box.post(1);
  box.messages$.subscribe({ complete: () => completed++ });
  t.is(completed, 2);
  t.deepEqual(got, []);
  t.false(box.observed);
});

test('ctx.messages$ sees the replies of calls to that context, not those of another', async (t) => {
  const router = routerFor(t);
  const [a, b] = await Promise.all([router.local(), router.local()]);
  t.false(router.isTraced);
  const fromA: Message[] = [];
  const sub = a.messages$.subscribe((m) => fromA.push(m));
  t.true(router.isTraced);
  t.is(await a.call(() => 'a1'), 'a1');
  t.is(await b.call(() => 'b1'), 'b1');
  t.is(await a.call(() => 'a2'), 'a2');
  t.deepEqual(fromA.map((m) => m.decode()), ['a1', 'a2']);
  t.true(fromA.every((m) => m.srcId === a.contextId));
  sub.unsubscribe();
  t.false(router.isTraced);
  await a.call(() => 'a3');
  t.is(fromA.length, 2);
});

test('router.trace$ sees a message to a Receiver with its handle; unsubscribing stops it', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router);
  const trace: TraceRecord[] = [];
  const sub = router.trace$.subscribe((r) => trace.push(r));
  child.callNoReply((s: { send(v: unknown): void }) => s.send('hello'), rx.toSender());
  t.is((await rx.get()).decode(), 'hello');
  const toRx = trace.filter((r) => r.handle === rx.handle);
  t.is(toRx.length, 1);
  t.like(toRx[0], { srcId: child.contextId, dstId: router.myId, isDead: false });
  t.true(toRx[0]!.size > 0);
  sub.unsubscribe();
  t.false(router.isTraced);
  const before = trace.length;
  child.callNoReply((s: { send(v: unknown): void }) => s.send('again'), rx.toSender());
  t.is((await rx.get()).decode(), 'again');
  t.is(trace.length, before);
});

test('with nobody tracing, calls and channels create no Subject', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router);
  child.callNoReply((s: { send(v: unknown): void }) => s.send(1), rx.toSender());
  await rx.get();
  for (let i = 0; i < 10; i++) await child.call((n: number) => n, i);
  t.false(router.isTraced);
  t.false(rx.isTraced);
});

test('receiver.messages$ sees each message without taking it, and completes when the sender closes', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router);
  const seen: Message[] = [];
  let completed = false;
  rx.messages$.subscribe({ next: (m) => seen.push(m), complete: () => { completed = true; } });
  child.callNoReply((s: { send(v: unknown): void; close(): void }) => { s.send('x'); s.send('y'); s.close(); }, rx.toSender());
  const got: unknown[] = [];
  for await (const m of rx) got.push(m.decode());
  t.deepEqual(got, ['x', 'y']);
  t.deepEqual(seen.map((m) => m.isDead), [false, false, true]);
  t.true(completed);
  t.false(rx.isTraced);
});

test("the broker's RouterActor routes through its mailbox: observers see each frame's header while subscribed", (t) => {
  const toMain: Header[] = [];
  const actor = new RouterActor({
    myId: 5, parentIds: [0], maxMessageSize: 1 << 20, unidirectional: false,
    toMain: (_frame, h) => toMain.push(h), toBroker: () => {}, onRoutesChanged: () => {}, log: () => {},
  });
  actor.post(5, 1000, 'before');
  t.false(actor.inbox.observed);
  const seen: Header[] = [];
  const sub = actor.inbox.messages$.subscribe((h) => seen.push(h));
  actor.post(5, 1001, 'during');
  sub.unsubscribe();
  actor.post(5, 1002, 'after');
  t.false(actor.inbox.observed);
  t.deepEqual(toMain.map((h) => h.handle), [1000, 1001, 1002]);
  t.deepEqual(seen.map((h) => [h.handle, h.srcId, h.dstId]), [[1001, 5, 5]]);
});

/** True once `router`'s broker no longer traces its routing (bounded: the port's close reaches the broker on a port of its own). */
async function untilUntraced(router: Router): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (!(await router.broker.control((api) => api.stats())).routesTraced) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

test("router.routed$ sees what a middle context's broker forwards between its parent and its child, which its main thread never handles", async (t) => {
  const router = routerFor(t);
  const middle = await router.local();
  const grandchild = await router.local({ via: middle });
  // The middle's main thread starts tracing its own broker; the stats call after it returns once the broker has the port.
  await middle.call(async () => {
    const r = currentRouter()!;
    const seen: TraceRecord[] = [];
    (globalThis as { routedSeen?: TraceRecord[] }).routedSeen = seen;
    (globalThis as { routedSub?: { unsubscribe(): void } }).routedSub = r.routed$.subscribe((rec) => seen.push(rec));
    await r.broker.control((api) => api.stats());
  });
  t.is(await grandchild.call((n: number) => n * 2, 21), 42);
  const seen = await middle.call(() => {
    const g = globalThis as { routedSeen?: TraceRecord[]; routedSub?: { unsubscribe(): void } };
    g.routedSub!.unsubscribe();
    return g.routedSeen!;
  });
  const hop = (src: number, dst: number) => seen.filter((r) => r.srcId === src && r.dstId === dst && !r.isDead);
  t.true(hop(router.myId, grandchild.contextId).length >= 1, 'the call, on its way down');
  t.true(hop(grandchild.contextId, router.myId).length >= 1, 'its reply, on its way up');
  t.true(seen.every((r) => r.size >= 0 && Number.isInteger(r.handle)));
  // Unsubscribed, the port closes and the middle's broker drops its Subject (the close crosses on its own port: a bounded wait).
  t.true(await middle.call(async () => {
    const r = currentRouter()!;
    for (let i = 0; i < 500; i++) {
      if (!(await r.broker.control((api) => api.stats())).routesTraced) return true;
      await new Promise((res) => setTimeout(res, 10));
    }
    return false;
  }), "the middle's broker stopped tracing");
});

test('router.routed$ in the master sees its calls leave and their replies come back, and stops when unsubscribed', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const seen: TraceRecord[] = [];
  const sub = router.routed$.subscribe((r) => seen.push(r));
  t.true((await router.broker.control((api) => api.stats())).routesTraced, 'the broker traces once it has the port');
  t.is(await child.call(() => 'x'), 'x');
  sub.unsubscribe();
  t.true(seen.some((r) => r.srcId === router.myId && r.dstId === child.contextId), 'the call');
  t.true(seen.some((r) => r.srcId === child.contextId && r.dstId === router.myId), 'the reply');
  t.true(await untilUntraced(router), 'the broker stopped tracing: its Subject is dropped');
});
