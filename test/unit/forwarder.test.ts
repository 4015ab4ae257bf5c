/**
 * The forwarder (RouterActor) of a middle context over in-memory streams: a
 * parent (0) above it (1), two children (2, 3) below, each a real
 * StreamActor reading bytes and writing frames, no process, no thread. What a
 * child writes is routed, checked and refused as Mitogen's router does
 * (mitogen/core.py Router._async_route, _on_add_route, _on_del_route).
 */
import test from 'ava';
import { PassThrough, Writable } from 'node:stream';
import { addRouteBody, delRouteBody } from '../../actors/control-bodies.js';
import { RouterActor } from '../../actors/router-actor.js';
import { StreamActor } from '../../actors/stream-actor.js';
import { buildFrame, decodeBody, encodeBody, HEADER_SIZE, readHeader } from '../../src/wire/codec.js';
import type { Header } from '../../src/wire/codec.js';
import { ADD_ROUTE, DEL_ROUTE, IS_DEAD } from '../../src/wire/handles.js';

const ME = 1, PARENT = 0, A = 2, B = 3;
const MAX = 4096;

interface Got { h: Header; body: unknown }

/** One neighbour: the bytes it sends go into the middle's StreamActor; what the middle writes to it is read back as frames. */
interface Peer { stream: StreamActor; got: Got[]; send(h: Omit<Header, 'length'>, body: unknown): void }

function framesOf(bytes: Buffer): Got[] {
  const out: Got[] = [];
  for (let off = 0; off < bytes.length;) {
    const h = readHeader(bytes, off);
    out.push({ h, body: h.length ? decodeBody(bytes.subarray(off + HEADER_SIZE, off + HEADER_SIZE + h.length)) : undefined });
    off += HEADER_SIZE + h.length;
  }
  return out;
}

/** A StreamActor sends a tick's frames as one write when it uncorks, on the next tick: queued before this one. */
const written = (): Promise<void> => new Promise((r) => process.nextTick(r));

async function middle(opts: { unidirectional?: boolean; asMaster?: boolean } = {}) {
  const logs: string[] = [];
  const toMain: Got[] = [];
  const routeEvents: string[] = [];
  const router = new RouterActor({
    myId: ME, parentIds: opts.asMaster ? [] : [PARENT], maxMessageSize: MAX, unidirectional: opts.unidirectional ?? false,
    toMain: (frame, h) => toMain.push({ h, body: decodeBody(frame.subarray(HEADER_SIZE)) }),
    // The broker's own handles as its control handles answer them (the rest of actors/control-handles.ts needs a whole broker).
    toBroker: (frame, h, from) => {
      const body = frame.subarray(HEADER_SIZE);
      if (h.handle === ADD_ROUTE) { const v = addRouteBody(body); if (v.ok) router.onAddRoute(from, h, v.value[0], v.value[1]); }
      if (h.handle === DEL_ROUTE) { const v = delRouteBody(body); if (v.ok && from !== router.parent) router.onDelRoute(from, h, v.value.id, v.value.why); }
    },
    onRoutesChanged: (e) => routeEvents.push(e.type === 'add' ? `add ${e.id} ${e.name}` : `del ${e.ids.join(',')}${e.why ? ` (${e.why})` : ''}`),
    log: (level, text) => logs.push(`${level}: ${text}`),
  });
  const peer = (remoteId: number, name: string): Peer => {
    const got: Got[] = [];
    const input = new PassThrough();
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) { got.push(...framesOf(chunk)); cb(); },
      writev(chunks, cb) { for (const { chunk } of chunks) got.push(...framesOf(chunk as Buffer)); cb(); },
    });
    const stream = new StreamActor(input, output, { remoteId, name, maxMessageSize: MAX }, {
      frame: (frame, h, s) => router.route(frame, h, s),
      // As the broker does: the router refuses it (a dead reply to whoever waits), its body never read.
      oversize: (h, s) => router.route(new Uint8Array(0), h, s),
      closed: (s) => { if (s !== router.parent) router.onChildClosed(s); },
    });
    // feed() is the stream's own reading path, called synchronously here instead of on a 'data' event.
    return { stream, got, send: (h, body) => stream.feed(Buffer.from(buildFrame(h, encodeBody(body)))) };
  };
  // The master has no parent: what it cannot route has nowhere else to go.
  const parent = peer(PARENT, 'parent');
  if (!opts.asMaster) router.parent = parent.stream;
  const a = peer(A, 'child-a'), b = peer(B, 'child-b');
  router.addChild(a.stream);
  router.addChild(b.stream);
  await written();
  parent.got.length = 0; // the ADD_ROUTEs of a and b, checked in their own test
  return { router, parent, a, b, logs, toMain, routeEvents };
}

const from = (src: number, dst: number, handle: number, replyTo = 0): Omit<Header, 'length'> => ({ dstId: dst, srcId: src, authId: src, handle, replyTo });

test('a new child is announced to the parent: ADD_ROUTE [id, name] from the middle, and a route event here', async (t) => {
  const m = await middle();
  m.router.addChild(new StreamActor(new PassThrough(), new PassThrough(), { remoteId: 4, name: 'child-c', maxMessageSize: MAX }, { frame() {}, oversize() {}, closed() {} }));
  await written();
  t.deepEqual(m.parent.got.map((g) => [g.h.handle, g.h.srcId, g.h.dstId, g.body]), [[ADD_ROUTE, ME, PARENT, [4, 'child-c']]]);
  t.deepEqual(m.routeEvents, [`add ${A} child-a`, `add ${B} child-b`, 'add 4 child-c']);
});

test('a frame from one child to another is forwarded as it came, and up to the parent; the middle\'s main thread sees neither', async (t) => {
  const m = await middle();
  m.a.send(from(A, B, 1234, 77), { hello: 'b' });
  m.a.send(from(A, PARENT, 1235), 'up');
  m.parent.send(from(PARENT, A, 1236), 'down');
  await written();
  t.deepEqual(m.b.got.map((g) => [g.h, g.body]), [[{ dstId: B, srcId: A, authId: A, handle: 1234, replyTo: 77, length: encodeBody({ hello: 'b' }).length }, { hello: 'b' }]]);
  t.deepEqual(m.parent.got.map((g) => [g.h.srcId, g.h.handle, g.body]), [[A, 1235, 'up']]);
  t.deepEqual(m.a.got.map((g) => [g.h.srcId, g.h.handle, g.body]), [[PARENT, 1236, 'down']]);
  t.deepEqual(m.toMain, []);
  t.deepEqual(m.logs, []);
});

test('a frame for the middle itself goes to its main thread, not to any stream', async (t) => {
  const m = await middle();
  m.a.send(from(A, ME, 1300), 42);
  await written();
  t.deepEqual(m.toMain.map((g) => [g.h.srcId, g.h.handle, g.body]), [[A, 1300, 42]]);
  t.deepEqual([m.parent.got, m.b.got, m.a.got], [[], [], []]);
});

test('a child claiming another context\'s id (as authId or as srcId) is dropped and logged; nothing is written anywhere', async (t) => {
  const m = await middle();
  m.a.send({ dstId: PARENT, srcId: B, authId: B, handle: 1400, replyTo: 5 }, 'as b');
  m.a.send({ dstId: PARENT, srcId: A, authId: PARENT, handle: 1401, replyTo: 5 }, 'as the parent');
  m.a.send({ dstId: B, srcId: PARENT, authId: A, handle: 1402, replyTo: 5 }, 'src of the parent');
  await written();
  t.deepEqual([m.parent.got, m.b.got, m.a.got, m.toMain], [[], [], [], []]);
  t.deepEqual(m.logs, [
    `warn: bad auth_id: dropping message from child-a claiming src ${B} auth ${B} (handle 1400)`,
    `warn: bad auth_id: dropping message from child-a claiming src ${A} auth ${PARENT} (handle 1401)`,
    `warn: bad auth_id: dropping message from child-a claiming src ${PARENT} auth ${A} (handle 1402)`,
  ]);
});

test('ADD_ROUTE from a child makes its grandchild reachable through it and is told to the parent; an id routed elsewhere is refused', async (t) => {
  const m = await middle();
  m.a.send(from(A, ME, ADD_ROUTE), [7, 'grandchild']);
  m.b.send(from(B, ME, ADD_ROUTE), [7, 'impostor']);
  m.b.send(from(B, ME, ADD_ROUTE), [PARENT, 'the parent']);
  m.parent.send(from(PARENT, 7, 1500), 'to the grandchild');
  await written();
  t.deepEqual(m.parent.got.map((g) => [g.h.handle, g.body]), [[ADD_ROUTE, [7, 'grandchild']]]);
  t.deepEqual(m.a.got.map((g) => [g.h.dstId, g.h.handle, g.body]), [[7, 1500, 'to the grandchild']]);
  t.deepEqual(m.b.got, []);
  t.deepEqual(m.logs, [
    'warn: refusing ADD_ROUTE(7) from child-b: that id is already routed elsewhere',
    `warn: refusing ADD_ROUTE(${PARENT}) from child-b: that id is already routed elsewhere`,
  ]);
});

test('the grandchild may send through the child that announced it; through the other child its id is a spoof', async (t) => {
  const m = await middle();
  m.a.send(from(A, ME, ADD_ROUTE), [7, 'grandchild']);
  m.a.send(from(7, PARENT, 1600), 'from 7 via a');
  m.b.send(from(7, PARENT, 1601), 'from 7 via b');
  await written();
  t.deepEqual(m.parent.got.filter((g) => g.h.handle !== ADD_ROUTE).map((g) => [g.h.srcId, g.body]), [[7, 'from 7 via a']]);
  t.deepEqual(m.logs, ['warn: bad auth_id: dropping message from child-b claiming src 7 auth 7 (handle 1601)']);
});

test('DEL_ROUTE is taken only from the child that owns the route, never for its own id; once gone, a frame for it from above would loop and is dropped', async (t) => {
  const m = await middle();
  m.a.send(from(A, ME, ADD_ROUTE), [7, 'grandchild']);
  m.b.send(from(B, ME, DEL_ROUTE), 7);
  m.a.send(from(A, ME, DEL_ROUTE), A);
  m.parent.send(from(PARENT, 7, 1700), 'still there');
  m.a.send(from(A, ME, DEL_ROUTE), [7, 'it exited']);
  m.parent.send(from(PARENT, 7, 1701), 'gone');
  await written();
  t.deepEqual(m.a.got.map((g) => g.body), ['still there']);
  t.deepEqual(m.parent.got.map((g) => [g.h.handle, g.body]), [[ADD_ROUTE, [7, 'grandchild']], [DEL_ROUTE, [7, 'it exited']]]);
  t.deepEqual(m.logs, [
    'warn: refusing DEL_ROUTE(7) from child-b: it does not own that route',
    `warn: refusing DEL_ROUTE(${A}) from child-a: it does not own that route`,
    'warn: dropping message for 7 that would loop back to parent',
  ]);
  t.is(m.routeEvents.at(-1), 'del 7 (it exited)');
});

test('a child stream that closes: its ids are gone, DEL_ROUTE goes up and to each other child that talked to them, and later frames for them go up', async (t) => {
  const m = await middle();
  m.a.send(from(A, ME, ADD_ROUTE), [7, 'grandchild']);
  m.b.send(from(B, A, 1800), 'b talks to a');
  await written();
  m.parent.got.length = 0;
  m.b.got.length = 0;
  m.a.stream.close('EOF on stream');
  m.b.send(from(B, A, 1801), 'too late');
  await written();
  t.deepEqual(m.parent.got.map((g) => [g.h.handle, g.body]), [[DEL_ROUTE, A], [DEL_ROUTE, 7], [1801, 'too late']]);
  t.deepEqual(m.b.got.map((g) => [g.h.handle, g.h.dstId, g.body]), [[DEL_ROUTE, B, A]], 'b talked to a, never to 7');
  t.is(m.routeEvents.at(-1), `del ${A},7`);
});

test('where nothing leads (the master has no parent), a frame for an unknown context is answered dead on its replyTo, naming the id', async (t) => {
  const m = await middle({ asMaster: true });
  m.a.send(from(A, 50, 1900, 88), 'anyone?');
  m.a.send(from(A, 51, 1901), 'no reply wanted');
  await written();
  t.deepEqual(m.a.got.map((g) => [g.h.handle, g.h.replyTo, g.body]), [[88, IS_DEAD, `no route to context 50 from context ${ME}`]]);
  t.deepEqual(m.parent.got, []);
});

test('unidirectional: a child may not reach its sibling (dead reply to the sender), but parent and children still talk', async (t) => {
  const m = await middle({ unidirectional: true });
  m.a.send(from(A, B, 2000, 99), 'to b');
  m.a.send(from(A, PARENT, 2001), 'up');
  m.parent.send(from(PARENT, B, 2002), 'down');
  await written();
  t.deepEqual(m.b.got.map((g) => [g.h.srcId, g.body]), [[PARENT, 'down']]);
  t.deepEqual(m.a.got.map((g) => [g.h.handle, g.h.replyTo, g.body]), [[99, IS_DEAD, `unidirectional routing refuses messages between child contexts (${A} -> ${B})`]]);
  t.deepEqual(m.parent.got.map((g) => g.body), ['up']);
  t.deepEqual(m.logs, [`warn: unidirectional: refusing message from child-a to context ${B}`]);
});

test('a frame over maxMessageSize is refused unread with a dead reply, and the frames behind it on the stream still arrive', async (t) => {
  const m = await middle();
  m.a.send(from(A, B, 2100, 44), 'x'.repeat(MAX + 10));
  m.a.send(from(A, B, 2101), 'next');
  await written();
  const reason = `message too large: ${encodeBody('x'.repeat(MAX + 10)).length} bytes exceeds maxMessageSize ${MAX} bytes (max ${MAX} bytes)`;
  t.deepEqual(m.a.got.map((g) => [g.h.handle, g.h.replyTo, g.body]), [[44, IS_DEAD, reason]]);
  t.deepEqual(m.b.got.map((g) => [g.h.handle, g.body]), [[2101, 'next']]);
  t.deepEqual(m.logs, [`error: refusing message for ${B} handle 2100: ${reason}`]);
});
