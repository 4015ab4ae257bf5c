// Ported from Mitogen's tests/select_test.py.
import test from 'ava';
import { Channel, Latch, LatchError, Message, Receiver, Select, TimeoutError } from '../../../src/index.js';
import type { Router } from '../../../src/index.js';
import { routerFor, waitUntil } from '../../helpers.js';

test('select_test AddTest.test_subselect_loop_direct: a Select cannot contain itself', (t) => {
  const s0 = new Select<number>();
  t.throws(() => s0.add(s0 as never), { instanceOf: LatchError, message: /Select cycle/ });
  t.is(s0.size, 0);
});

test('select_test AddTest.test_subselect_loop_indirect: s2.add(s0) with s0 > s1 > s2 throws and adds nothing', (t) => {
  const s0 = new Select<number>();
  const s1 = new Select<number>();
  const s2 = new Select<number>();
  s0.add(s1);
  s1.add(s2);
  t.throws(() => s2.add(s0), { instanceOf: LatchError, message: 'Adding this Select instance would create a Select cycle' });
  t.is(s2.size, 0);
  t.true(s0.empty());
});

test('select_test CloseTest.test_latch / test_subselect: close() detaches every member', (t) => {
  const latch = new Latch<number>();
  const sub = new Select<number>();
  const sel = new Select<number>([latch, sub]);
  t.is(sel.size, 2);
  sel.close();
  t.is(sel.size, 0);
  // Detached: the latch is free to join another Select.
  t.notThrows(() => new Select<number>([latch]));
});

test('select_test CloseTest: close() wakes a pending get(), which throws LatchError', async (t) => {
  const sel = new Select<number>([new Latch<number>()]);
  const pending = sel.get();
  sel.close();
  await t.throwsAsync(pending, { instanceOf: LatchError });
});

test('select_test: `using` (Symbol.dispose) is the TS form of `with Select()` and closes it', (t) => {
  const latch = new Latch<number>();
  const sel = new Select<number>([latch]);
  sel[Symbol.dispose]();
  t.is(sel.size, 0);
});

// ---- the rest of select_test.py. Mitogen's `bool(select)` is `size > 0`; its
// `recv._on_receive(msg)` is a message routed to the Receiver's handle here.

async function receive(router: Router, recv: Receiver, value: unknown): Promise<void> {
  const before = recv.empty() ? 0 : 1;
  router.route(Message.encoded(value, { dstId: 0, handle: recv.handle }));
  if (!before) await waitUntil(() => !recv.empty(), 10, 'the message is queued');
}

test('select_test BoolTest.test_latch: a oneshot Select is non-empty until its latch has yielded', async (t) => {
  const latch = new Latch<number>();
  const select = new Select<number>();
  t.is(select.size, 0);
  select.add(latch);
  t.is(select.size, 1);
  latch.put(123);
  t.is(select.size, 1);
  t.is(await select.get(), 123);
  t.is(select.size, 0);
});

test('select_test BoolTest.test_receiver: likewise for a Receiver', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const select = new Select();
  select.add(recv);
  t.is(select.size, 1);
  await receive(router, recv, '123');
  t.is((await select.get()).decode(), '123');
  t.is(select.size, 0);
});

test('select_test AddTest.test_latch / test_receiver / test_channel / test_subselect_empty / test_subselect_nonempty: members are added', async (t) => {
  const router = routerFor(t);
  const context = await router.local();
  const sub = new Select();
  sub.add(new Receiver(router));
  for (const member of [new Latch<Message>(), new Receiver(router), new Channel(router, context, 1234), new Select(), sub]) {
    const select = new Select();
    select.add(member);
    t.is(select.size, 1);
  }
});

test('select_test AddTest.test_double_add_receiver / test_double_add_subselect: a member already in a Select is refused', (t) => {
  const router = routerFor(t);
  const select = new Select();
  const recv = new Receiver(router);
  select.add(recv);
  t.throws(() => select.add(recv), { instanceOf: LatchError });
  const select2 = new Select();
  select.add(select2);
  t.throws(() => select.add(select2), { instanceOf: LatchError });
});

test('select_test AddTest (owned_msg): a member of one Select cannot join another, which would steal its wake-ups', async (t) => {
  const latch = new Latch<number>();
  const first = new Select<number>([latch]);
  const pending = first.get();
  t.throws(() => new Select<number>([latch]), { instanceOf: LatchError, message: /already in another Select/ });
  latch.put(1);
  t.is(await pending, 1);
  // Once it has left (oneshot), it may join another.
  t.notThrows(() => new Select<number>([latch]));
});

test('select_test RemoveTest.test_receiver_empty / _absent / test_latch_empty / _absent: removing a non-member throws', (t) => {
  const router = routerFor(t);
  for (const [absent, other] of [[new Receiver(router), new Receiver(router)], [new Latch<Message>(), new Latch<Message>()]] as const) {
    const select = new Select();
    t.throws(() => select.remove(absent), { instanceOf: LatchError, message: /not in this Select/ });
    select.add(other);
    t.throws(() => select.remove(absent), { instanceOf: LatchError, message: /not in this Select/ });
  }
});

test('select_test RemoveTest.test_receiver_present / test_latch_present: a removed member is detached', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const latch = new Latch<Message>();
  const select = new Select([recv, latch]);
  select.remove(recv);
  select.remove(latch);
  t.is(select.size, 0);
  // Detached: free to join another Select, and no longer wakes this one.
  const again = new Select([recv]);
  await receive(router, recv, 'x');
  t.is((await again.get()).decode(), 'x');
});

test('select_test CloseTest.test_empty: close() on an empty Select is harmless', (t) => {
  const select = new Select();
  t.notThrows(() => select.close());
});

test('select_test CloseTest.test_one_subselect: close() detaches the subselect, which keeps its own members', (t) => {
  const router = routerFor(t);
  const select = new Select();
  const subselect = new Select();
  select.add(subselect);
  const recv = new Receiver(router);
  subselect.add(recv);
  select.close();
  t.is(select.size, 0);
  t.is(subselect.size, 1);
  subselect.close();
  t.is(subselect.size, 0);
  t.notThrows(() => new Select([recv]));
});

test('select_test EmptyTest: empty() for no members, empty and non-empty receivers and latches, before and after add', async (t) => {
  const router = routerFor(t);
  t.true(new Select().empty());
  t.true(new Select([new Receiver(router)]).empty());
  const before = new Receiver(router);
  await receive(router, before, '123');
  t.false(new Select([before]).empty());
  const after = new Receiver(router);
  const sAfter = new Select([after]);
  await receive(router, after, '123');
  t.false(sAfter.empty());
  t.true(new Select([new Latch()]).empty());
  const l1 = new Latch<number>();
  l1.put(123);
  t.false(new Select<number>([l1]).empty());
  const l2 = new Latch<number>();
  const s2 = new Select<number>([l2]);
  l2.put(123);
  t.false(s2.empty());
});

test('select_test IterTest: iterating yields what the members hold, and ends', async (t) => {
  const router = routerFor(t);
  const collect = async <T>(s: Select<T>): Promise<T[]> => { const out: T[] = []; for await (const x of s) out.push(x); return out; };
  t.deepEqual(await collect(new Select()), []);
  const recv = new Receiver(router);
  const select = new Select([recv]);
  await receive(router, recv, '123');
  t.deepEqual((await collect(select)).map((m) => m.decode()), ['123']);
  const latch = new Latch<number>();
  const sl = new Select<number>([latch]);
  latch.put(123);
  t.deepEqual(await collect(sl), [123]);
});

test('select_test OneShotTest: oneshot members leave after one item; oneshot: false members stay', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const s1 = new Select([recv]);
  await receive(router, recv, '123');
  t.is((await s1.get()).decode(), '123');
  t.is(s1.size, 0);
  const recv2 = new Receiver(router);
  const s2 = new Select([recv2], { oneshot: false });
  await receive(router, recv2, '123');
  t.is((await s2.get()).decode(), '123');
  t.is(s2.size, 1);
  const latch = new Latch<number>();
  const s3 = new Select<number>([latch]);
  latch.put(123);
  t.is(await s3.get(), 123);
  t.is(s3.size, 0);
  const latch2 = new Latch<number>();
  const s4 = new Select<number>([latch2], { oneshot: false });
  latch2.put(123);
  t.is(await s4.get(), 123);
  t.is(s4.size, 1);
});

test('select_test GetReceiverTest / GetLatchTest.test_no_receivers / test_timeout_no_receivers: get() on an empty Select throws emptyMsg', async (t) => {
  await t.throwsAsync(new Select().get(), { instanceOf: LatchError, message: Select.emptyMsg });
  await t.throwsAsync(new Select().get({ timeout: 1 }), { instanceOf: LatchError, message: Select.emptyMsg });
});

test('select_test GetReceiverTest / GetLatchTest.test_zero_timeout / test_timeout: nothing arrives, TimeoutError', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(new Select([new Receiver(router)]).get({ timeout: 0 }), { instanceOf: TimeoutError });
  await t.throwsAsync(new Select([new Receiver(router)]).get({ timeout: 0.1 }), { instanceOf: TimeoutError });
  await t.throwsAsync(new Select([new Latch()]).get({ timeout: 0 }), { instanceOf: TimeoutError });
  await t.throwsAsync(new Select([new Latch()]).get({ timeout: 0.1 }), { instanceOf: TimeoutError });
});

test('select_test GetReceiverTest.test_nonempty_before_add / _multiple_items_before_add / test_nonempty_after_add', async (t) => {
  const router = routerFor(t);
  const r1 = new Receiver(router);
  await receive(router, r1, '123');
  t.is((await new Select([r1]).get()).decode(), '123');
  const r2 = new Receiver(router);
  await receive(router, r2, '123');
  await receive(router, r2, '234');
  const s2 = new Select([r2], { oneshot: false });
  t.is((await s2.get()).decode(), '123');
  t.is((await s2.get()).decode(), '234');
  await t.throwsAsync(s2.get({ timeout: 0 }), { instanceOf: TimeoutError });
  const r3 = new Receiver(router);
  const s3 = new Select([r3]);
  await receive(router, r3, '123');
  t.is((await s3.get()).decode(), '123');
});

test('select_test GetLatchTest.test_nonempty_before_add / _multiple_items_before_add / test_nonempty_after_add', async (t) => {
  const l1 = new Latch<number>();
  l1.put(123);
  t.is(await new Select<number>([l1]).get(), 123);
  const l2 = new Latch<number>();
  l2.put(123);
  l2.put(234);
  const s2 = new Select<number>([l2], { oneshot: false });
  t.is(await s2.get(), 123);
  t.is(await s2.get(), 234);
  await t.throwsAsync(s2.get({ timeout: 0 }), { instanceOf: TimeoutError });
  const l3 = new Latch<number>();
  const s3 = new Select<number>([l3]);
  l3.put(123);
  t.is(await s3.get(), 123);
});

test('select_test GetReceiverTest / GetLatchTest.test_drained_by_other_thread: an item taken from the member directly is not yielded again', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  await receive(router, recv, '123');
  const sr = new Select([recv]);
  t.is((await recv.get()).decode(), '123');
  await t.throwsAsync(sr.get({ timeout: 0 }), { instanceOf: TimeoutError });
  const latch = new Latch<number>();
  latch.put(123);
  const sl = new Select<number>([latch]);
  t.is(await latch.get(), 123);
  await t.throwsAsync(sl.get({ timeout: 0 }), { instanceOf: TimeoutError });
});

test('select_test GetEventTest: getEvent() names the member an item came from', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(new Select().getEvent(), { instanceOf: LatchError, message: Select.emptyMsg });
  const latch = new Latch<number>();
  latch.put(123);
  const ev = await new Select<number>([latch]).getEvent();
  t.is(ev.source, latch);
  t.is(ev.data, 123);
  const recv = new Receiver(router);
  await receive(router, recv, '123');
  const ev2 = await new Select([recv]).getEvent();
  t.is(ev2.source, recv);
  t.is(ev2.data.decode(), '123');
});
