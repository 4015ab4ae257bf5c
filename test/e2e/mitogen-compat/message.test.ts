// Ported from Mitogen's tests/message_test.py. The body is msgpack, not pickle: the
// PickledTest/UnpickleCompatTest cases become encode/decode round trips of our wire types.
import test from 'ava';
import { CallError, ChannelError, Context, handles, Message, Receiver, Sender } from '../../../src/index.js';
import { buildFrame, HEADER_SIZE, readHeader } from '../../../src/wire/codec.js';
import type { MessageRouter } from '../../../src/wire/message.js';
import { routerFor } from '../../helpers.js';

test('message_test ConstructorTest: header fields default to 0 and take explicit values', (t) => {
  const m = new Message();
  t.like(m, { dstId: 0, srcId: 0, authId: 0, handle: 0, replyTo: 0 });
  t.is(m.data.byteLength, 0);
  t.like(new Message({ dstId: 1111, srcId: 4321, authId: 2222, handle: 1234, replyTo: 8888 }), { dstId: 1111, srcId: 4321, authId: 2222, handle: 1234, replyTo: 8888 });
  const data = new TextEncoder().encode('asdf');
  t.is(new Message({}, data).data, data);
});

test('message_test PackTest: the header is 26 bytes, big-endian, fields in Mitogen\'s order', (t) => {
  const body = new TextEncoder().encode('hello');
  const frame = buildFrame({ dstId: 1231, srcId: 5432, authId: 1919, handle: 7777, replyTo: 9132 }, body);
  t.is(HEADER_SIZE, 26);
  t.is(frame.byteLength, HEADER_SIZE + 5);
  const view = new DataView(frame.buffer, frame.byteOffset);
  t.deepEqual([2, 6, 10, 14, 18, 22].map((o) => view.getUint32(o)), [1231, 5432, 1919, 7777, 9132, 5]);
  t.deepEqual(readHeader(frame), { dstId: 1231, srcId: 5432, authId: 1919, handle: 7777, replyTo: 9132, length: 5 });
  t.deepEqual(frame.subarray(HEADER_SIZE), body);
  const empty = buildFrame({ dstId: 1, srcId: 0, authId: 0, handle: 2, replyTo: 0 }, new Uint8Array(0));
  t.is(empty.byteLength, HEADER_SIZE);
  t.is(readHeader(empty).length, 0);
});

test('message_test IsDeadTest: isDead is replyTo === IS_DEAD', (t) => {
  t.true(new Message({ replyTo: handles.IS_DEAD }).isDead);
  t.false(new Message({ replyTo: 5555 }).isDead);
});

test('message_test DeadTest.test_no_reason / test_with_reason: dead() carries its reason', (t) => {
  const plain = Message.dead();
  t.is(plain.replyTo, handles.IS_DEAD);
  t.true(plain.isDead);
  // Mitogen's body is empty here; ours carries the default reason, so a reader always has one.
  t.is(plain.deadReason(), ChannelError.remoteMsg);
  const why = Message.dead('oh no');
  t.true(why.isDead);
  t.is(why.deadReason(), 'oh no');
});

const roundtrip = (v: unknown, router?: MessageRouter): unknown => {
  const m = Message.encoded(v);
  const back = new Message({}, m.data);
  back.router = router;
  return back.decode();
};

test('message_test PickledTest (bool, bytes, dict, int, list, tuple, unicode): values survive a round trip with their types', (t) => {
  for (const b of [true, false]) t.is(roundtrip(b), b);
  t.deepEqual(roundtrip(new Uint8Array([0x31, 0x32, 0x33])), new Uint8Array([0x31, 0x32, 0x33]));
  t.deepEqual(roundtrip({ 1: 2, a: 3, c: {} }), { 1: 2, a: 3, c: {} });
  t.deepEqual(roundtrip(new Map<unknown, unknown>([[1, 2], ['a', 3]])), new Map<unknown, unknown>([[1, 2], ['a', 3]]));
  t.is(roundtrip(123), 123);
  t.is(roundtrip(0xffffffffffffn), 0xffffffffffffn); // test_long: bigint keeps its type
  t.deepEqual(roundtrip([1, 'b', new Uint8Array([0x63])]), [1, 'b', new Uint8Array([0x63])]);
  t.is(roundtrip('abcd'), 'abcd');
});

test('message_test PickledTest.test_call_error: a CallError body is raised by decode()', (t) => {
  const e = t.throws(() => roundtrip(new CallError('nope')), { instanceOf: CallError });
  t.is(e!.message, 'nope');
});

test('message_test PickledTest.test_context / test_sender: Context and Sender come back live on the receiving router', (t) => {
  const router = routerFor(t);
  const c = router.contextFor(1234);
  const back = roundtrip(c, router);
  t.true(back instanceof Context);
  t.is((back as Context).contextId, 1234);
  const recv = new Receiver(router);
  const sender = recv.toSender();
  const s = roundtrip(sender, router) as Sender;
  t.true(s instanceof Sender);
  t.is(s.context.contextId, 0);
  t.is(s.dstHandle, sender.dstHandle);
});

test('message_test PickledTest.test_custom_object_deserialization_fails: a class instance is refused when encoding, naming its type', (t) => {
  class EvilObject {}
  t.throws(() => Message.encoded(new EvilObject()), { instanceOf: TypeError, message: /EvilObject/ });
});

test('message_test ReplyTest: reply() routes one message to srcId/replyTo; a ready Message is sent as itself', (t) => {
  const routed: Message[] = [];
  const fake: MessageRouter = { codecContext: { context: (id) => id, sender: (id) => id }, route: (m) => { routed.push(m); } };
  const msg = new Message({ srcId: 1234, replyTo: 9191 });
  msg.router = fake;
  msg.reply(123);
  t.is(routed.length, 1);
  t.like(routed[0], { dstId: 1234, handle: 9191 });
  t.is(routed[0]!.decode(), 123);
  const mine = Message.encoded(4444);
  msg.reply(mine);
  t.is(routed[1], mine);
  t.like(mine, { dstId: 1234, handle: 9191 });
  t.is(mine.decode(), 4444);
});

test('message_test UnpickleTest: throw / throwDead parameters', (t) => {
  t.throws(() => Message.encoded(new CallError('nope')).decode(), { instanceOf: CallError, message: 'nope' });
  t.throws(() => Message.dead('gone').decode(), { instanceOf: ChannelError, message: 'gone' });
  t.is(Message.dead('gone').decode({ throwDead: false }), 'gone');
});

test('message_test ReprTest.test_repr: toString shows the header fields', (t) => {
  t.is(String(new Message({ dstId: 1, srcId: 2, authId: 3, handle: 4, replyTo: 5 })), 'Message(1, 2, 3, 4, 5, 0 bytes)');
});
