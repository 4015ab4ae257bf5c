// Ported from Mitogen's tests/receiver_test.py. Mitogen's threads blocked in get() are pending promises here.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ChannelError, Message, Receiver, Sender } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('receiver_test ConstructorTest.test_handle: a Receiver gets a dynamic handle and takes messages routed to it', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  t.true(Number.isInteger(recv.handle));
  t.true(recv.handle > 100);
  router.route(Message.encoded('hi', { dstId: 0, handle: recv.handle }));
  t.is((await recv.get({ timeout: 10 })).decode(), 'hi');
});

test('receiver_test IterationTest.test_dead_stops_iteration: iteration ends at the sender\'s close()', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const child = await router.local();
  const ret = child.callAsync((sender: Sender) => {
    for (let x = 0; x < 5; x++) sender.send(x);
    sender.close();
    return 10;
  }, recv.toSender());
  const got: unknown[] = [];
  for await (const m of recv) got.push(m.decode());
  t.deepEqual(got, [0, 1, 2, 3, 4]);
  t.is((await ret.get({ timeout: 10 })).decode(), 10);
});

test('receiver_test IterationTest.test_close_stops_iteration: close() ends a pending iteration with nothing yielded', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const got: Message[] = [];
  const iterating = (async () => { for await (const m of recv) got.push(m); })();
  recv.close();
  await iterating;
  t.deepEqual(got, []);
});

/** `pending` get()s wait on a fresh Receiver, then `close(recv)`: each rejects with ChannelError and `message`. Returns the receiver. */
async function closeRejectsPending(t: ExecutionContext, pending: number, close: (recv: Receiver) => void, message: string): Promise<Receiver> {
  const recv = new Receiver(routerFor(t));
  const waiting = Array.from({ length: pending }, () => recv.get());
  close(recv);
  for (const w of waiting) await t.throwsAsync(w, { instanceOf: ChannelError, message });
  return recv;
}

test('receiver_test CloseTest.test_closes_one: close() rejects a pending get() with closedMsg', async (t) => {
  await closeRejectsPending(t, 1, (recv) => recv.close(), Receiver.closedMsg);
});

test('receiver_test CloseTest.test_closes_all: close() rejects every pending get()', async (t) => {
  await closeRejectsPending(t, 5, (recv) => recv.close(), Receiver.closedMsg);
});

test('receiver_test OnReceiveTest.test_sender_closes_one_thread: the sender\'s close() rejects a pending get() with its reason', async (t) => {
  await closeRejectsPending(t, 1, (recv) => recv.toSender().close(), Sender.closedMsg);
});

test('receiver_test OnReceiveTest.test_sender_closes_all_threads (skipped in Mitogen): a dead message wakes every pending get()', async (t) => {
  const recv = await closeRejectsPending(t, 5, (r) => r.toSender().close(), Sender.closedMsg);
  // And a get() after it fails at once rather than waiting.
  await t.throwsAsync(recv.get(), { instanceOf: ChannelError });
});

test('receiver_test ToSenderTest.test_returned_context: toSender() names this context', (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  t.is(recv.toSender().context, router.myself());
  t.is(recv.toSender().dstHandle, recv.handle);
});
