/**
 * Router-level fuzzing over a real pipe: a hostile child writes well-framed
 * but hostile frames straight onto its fd 1 — forged src/auth ids, unknown
 * destinations, bodies that are not msgpack or carry unknown extension types,
 * replies to pending calls, oversized frames — and the master must never
 * crash or hang: forged and unroutable frames are dropped and logged, a call
 * whose reply is corrupt rejects with a typed error, other contexts go on.
 * The soak form runs more cases (MT_FUZZ_RUNS, shared with the frame fuzz).
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildFrame, decodeBody, encodeBody } from '../../src/wire/codec.js';
import { CallError, ChannelError, currentRouter, handles, logRecords, logToFile, Message, MitogenError, Receiver, StreamError } from '../../src/index.js';
import type { Context, LogRecord, Router } from '../../src/index.js';
import { routerFor, waitUntil } from '../helpers.js';

// Each case is a few round trips over real pipes (~7 ms): the frame fuzz's 48k
// default becomes 1000 here (~7 s); MT_FUZZ_RUNS scales both.
const RUNS = process.env.MT_FUZZ_RUNS ? Math.max(50, Math.round(Number(process.env.MT_FUZZ_RUNS) / 48)) : 1000;
/** The master's limit in this file: small, so oversized frames are cheap to write. */
const LIMIT = 64 * 1024;
/** Ids no context has: far above anything allocated here (ALLOCATE_ID cases burn blocks of 1000). */
const UNKNOWN_IDS = { min: 50_000_000, max: 60_000_000 };
/** Ids a forged ADD_ROUTE may claim: apart from every other range, so a granted claim never changes another case's verdict. */
const CLAIMED_IDS = { min: 70_000_000, max: 80_000_000 };

type Who = 'hostile' | 'good' | 'master' | 'unknown';
type Target = number | 'pending' | 'pendingGood' | 'sentinel';
interface FrameSpec {
  src: Who;
  auth: Who;
  dst: 'master' | 'good' | 'unknown' | 'hostile';
  unknownId: number;
  handle: Target;
  replyTo: number;
  body: Uint8Array;
  /** 0, or a body size over LIMIT: the child writes that many zero bytes. */
  oversize: number;
}

// Thousands of drop warnings are expected here: they go to a file (this file's process
// only), and the assertions read them from logRecords.
const logDir = mkdtempSync(join(os.tmpdir(), 'mt-fuzz-router-'));
logToFile(join(logDir, 'log'));
test.after.always(() => rmSync(logDir, { recursive: true, force: true }));

// ---------------------------------------------------------------- bodies

/** msgpack ext 8: type byte, 1-byte length, payload. */
function ext(type: number, data: Uint8Array): Uint8Array {
  return Uint8Array.from([0xc7, data.length, type & 0xff, ...data]);
}

const plainValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.string(), fc.constantFrom('debug', 'info', 'warn', 'error', 'bogus'), fc.string()),
  fc.tuple(fc.integer({ min: CLAIMED_IDS.min, max: CLAIMED_IDS.max }), fc.string({ maxLength: 20 })),
  fc.tuple(fc.constantFrom(0, 1, 2), fc.constant('stolen')),
  fc.record({ spec: fc.string({ maxLength: 30 }), parent: fc.string({ maxLength: 30 }), kind: fc.constantFrom('import', 'require', 'other') }),
);

const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  plainValue.map((v) => encodeBody(v)),
  // An extension type the codec does not know, alone or inside an array.
  fc.tuple(fc.oneof(fc.integer({ min: 8, max: 127 }), fc.integer({ min: -128, max: -2 })), fc.uint8Array({ maxLength: 24 }), fc.boolean())
    .map(([type, data, wrap]) => (wrap ? Uint8Array.from([0x92, 0x01, ...ext(type, data)]) : ext(type, data))),
  // A known extension type with a payload that is not what it should be.
  fc.tuple(fc.constantFrom(-1, 1, 2, 3, 4, 5, 6, 7), fc.uint8Array({ maxLength: 24 })).map(([type, data]) => ext(type, data)),
  // Not msgpack at all, or cut short.
  fc.uint8Array({ maxLength: 64 }),
  fc.tuple(plainValue, fc.nat()).map(([v, cut]) => {
    const full = encodeBody(v);
    return full.subarray(0, full.length > 1 ? cut % full.length : 0);
  }),
);

const who = fc.oneof(
  { arbitrary: fc.constant<Who>('hostile'), weight: 8 },
  { arbitrary: fc.constantFrom<Who>('good', 'master', 'unknown'), weight: 2 },
);

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  fc.constantFrom<Target>('pending', 'pendingGood', 'sentinel'),
  fc.constantFrom(handles.GET_MODULE, handles.CALL_FUNCTION, handles.FORWARD_LOG, handles.ADD_ROUTE, handles.DEL_ROUTE,
    handles.ALLOCATE_ID, handles.SHUTDOWN, handles.CONNECT, handles.OBSERVE, handles.IS_DEAD),
  // Below the dynamic handles, or far above the few this file allocates: never a reply the test itself awaits.
  fc.nat({ max: 999 }),
  fc.integer({ min: 2 ** 29, max: 2 ** 30 - 1 }),
  fc.nat({ max: 100 }).map((n) => handles.BROKER_HANDLE_BASE + n),
);

const frameArb: fc.Arbitrary<FrameSpec> = fc.record({
  src: who,
  auth: who,
  dst: fc.oneof({ arbitrary: fc.constant('master' as const), weight: 6 }, { arbitrary: fc.constantFrom('good' as const, 'unknown' as const, 'hostile' as const), weight: 2 }),
  unknownId: fc.integer(UNKNOWN_IDS),
  handle: targetArb,
  replyTo: fc.oneof(fc.constant(0), fc.constant(handles.IS_DEAD), fc.integer({ min: 1, max: 2 ** 32 - 1 })),
  body: bodyArb,
  oversize: fc.oneof({ arbitrary: fc.constant(0), weight: 12 }, { arbitrary: fc.integer({ min: LIMIT + 1, max: LIMIT * 2 }), weight: 1 }),
});

// ---------------------------------------------------------------- the child's side

/**
 * Runs in the hostile child: writes the frames (whole ones, or a header plus
 * `size` zero bytes) straight onto fd 1, bypassing its own router. fd 1 is
 * non-blocking (the broker owns it), so partial writes and EAGAIN are retried.
 */
function writeRaw(items: (Uint8Array | number[])[]): number {
  const fs = require('node:fs') as typeof import('node:fs');
  const parts = items.map((it) => {
    if (it instanceof Uint8Array) return Buffer.from(it);
    const [dst, src, auth, handle, replyTo, size] = it as [number, number, number, number, number, number];
    const b = Buffer.alloc(26 + size);
    b.writeUInt16BE(0x4d54, 0);
    [dst, src, auth, handle, replyTo, size].forEach((v, i) => b.writeUInt32BE(v, 2 + 4 * i));
    return b;
  });
  const all = Buffer.concat(parts);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0; off < all.length;) {
    try {
      off += fs.writeSync(1, all, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 1);
    }
  }
  return all.length;
}

// ---------------------------------------------------------------- the master's side

interface Fixture {
  router: Router;
  hostile: Context;
  good: Context;
  logs: LogRecord[];
  brokerFailures: string[];
}

async function fixture(t: ExecutionContext): Promise<Fixture> {
  const router = routerFor(t);
  router.maxMessageSize = LIMIT;
  // Every drop is counted below, so none may be folded into a "suppressed" line.
  router.maxWarningsPerSecond = Infinity;
  const logs: LogRecord[] = [];
  const sub = logRecords.subscribe((r) => { if (logs.length < 10_000) logs.push(r); });
  t.teardown(() => sub.unsubscribe());
  const brokerFailures: string[] = [];
  router.broker.worker!.on('error', (e) => brokerFailures.push(`error: ${e.message}`));
  router.broker.worker!.on('exit', (code) => { if (!router.isShutdown) brokerFailures.push(`exit ${code}`); });
  // Unroutable frames are logged at debug level (as Mitogen does): record them without printing them.
  await router.broker.control((api) => api.setDebug(true));
  const hostile = await router.local({ name: 'hostile' });
  const good = await router.local({ name: 'good' });
  return { router, hostile, good, logs, brokerFailures };
}

/** The reply handle of the call `start` makes (captured on its way out). */
function callWithHandle<T>(router: Router, start: () => Promise<T>): { promise: Promise<T>; handle: number } {
  const route = router.route;
  let handle = 0;
  router.route = (msg: Message): void => {
    if (msg.handle === handles.CALL_FUNCTION) handle = msg.replyTo;
    route.call(router, msg);
  };
  try {
    const promise = start();
    return { promise, handle };
  } finally {
    router.route = route;
  }
}

type Outcome = { state: 'pending' } | { state: 'resolved'; value: unknown } | { state: 'rejected'; error: unknown };
function watch<T>(p: Promise<T>): { outcome: Outcome } {
  const w: { outcome: Outcome } = { outcome: { state: 'pending' } };
  p.then((value) => { w.outcome = { state: 'resolved', value }; }, (error: unknown) => { w.outcome = { state: 'rejected', error }; });
  return w;
}
const describe = (o: Outcome): string => (o.state === 'rejected' ? `rejected: ${String(o.error)}` : o.state);

/** Decodes Context and Sender references as markers: what they become in the master depends on the live tree. */
class RefMarker {}
const REF_MARKERS = { context: () => new RefMarker(), sender: () => new RefMarker() };
function holdsRef(v: unknown): boolean {
  if (v instanceof RefMarker) return true;
  if (v instanceof Map) return [...v].some(([k, x]) => holdsRef(k) || holdsRef(x));
  if (v instanceof Set || Array.isArray(v)) return [...v].some(holdsRef);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !(v instanceof Date)) return Object.values(v).some(holdsRef);
  return false;
}

const count = (logs: LogRecord[], re: RegExp): number => logs.filter((r) => re.test(r.text)).length;
const decodes = (body: Uint8Array): boolean => {
  try { decodeBody(body); return true; } catch { return false; }
};

/** What the master logs about the hostile child's frames, counted as records arrive. */
const PATTERNS = {
  badAuth: /bad auth_id: dropping message from hostile/,
  noRoute: /no route to context \d+: dropping message from hostile/,
  loop: /would loop back to hostile/,
  oversize: /hostile sent a frame of \d+ bytes, over maxMessageSize/,
  refused: /refusing message for \d+ handle \d+: message too large/,
  malformed: /malformed (ADD_ROUTE|DEL_ROUTE|GET_MODULE) from hostile/,
  unexpected: /reply from unexpected context/,
};
type Tally = Record<keyof typeof PATTERNS, number>;
function tally(t: ExecutionContext): Tally {
  const n = Object.fromEntries(Object.keys(PATTERNS).map((k) => [k, 0])) as Tally;
  const sub = logRecords.subscribe((r) => {
    for (const k of Object.keys(PATTERNS) as (keyof Tally)[]) if (PATTERNS[k].test(r.text)) n[k]++;
  });
  t.teardown(() => sub.unsubscribe());
  return n;
}

/** What one frame is expected to do to a pending call: end it (a dead message), answer it, or be refused. */
type Effect = { kind: 'dead' } | { kind: 'reply'; body: Uint8Array } | { kind: 'unexpected' };

test.serial('hostile frames from a child: the master drops and logs them, corrupt replies reject typed, nothing hangs', async (t) => {
  const { router, hostile, good, brokerFailures } = await fixture(t);
  const seen = tally(t);
  const H = hostile.contextId;
  const G = good.contextId;
  const never = (): Promise<never> => new Promise(() => {});
  let pendingGood = callWithHandle(router, () => good.call(never));
  let goodWatch = watch(pendingGood.promise);
  let sentinel = new Receiver(router);
  let cases = 0;
  let frames = 0;

  const property = fc.asyncProperty(fc.array(frameArb, { minLength: 1, maxLength: 8 }), async (specs) => {
    cases++;
    const pendingHostile = callWithHandle(router, () => hostile.call(never));
    const hostileWatch = watch(pendingHostile.promise);
    const id = (w: Who, s: FrameSpec): number => (w === 'hostile' ? H : w === 'good' ? G : w === 'master' ? 0 : s.unknownId);
    const handleOf = (s: FrameSpec): number => (s.handle === 'pending' ? pendingHostile.handle
      : s.handle === 'pendingGood' ? pendingGood.handle : s.handle === 'sentinel' ? sentinel.handle : s.handle);
    const before = { ...seen };
    const expect = { badAuth: 0, noRoute: 0, loop: 0, oversize: 0, refused: 0, unexpected: 0, undecodableBroker: 0, brokerFrames: 0 };
    let onHostile: Effect | undefined;
    let onGood: Effect | undefined;
    const items: (Uint8Array | number[])[] = [];
    for (const s of specs) {
      const src = id(s.src, s);
      const auth = id(s.auth, s);
      const dst = s.dst === 'master' ? 0 : s.dst === 'good' ? G : s.dst === 'hostile' ? H : s.unknownId;
      const handle = handleOf(s);
      const honest = src === H && auth === H;
      const toMaster = honest && s.dst === 'master';
      if (s.oversize) {
        items.push([dst, src, auth, handle, s.replyTo, s.oversize]);
        expect.oversize++;
        if (!honest) { expect.badAuth++; continue; }
        expect.refused++;
        // An oversized frame with no replyTo is taken for a reply: whoever waits on its handle is told.
        if (toMaster && s.replyTo === 0 && s.handle === 'pending') onHostile ??= { kind: 'dead' };
        if (toMaster && s.replyTo === 0 && s.handle === 'pendingGood') onGood ??= { kind: 'dead' };
        continue;
      }
      items.push(buildFrame({ dstId: dst, srcId: src, authId: auth, handle, replyTo: s.replyTo }, s.body));
      if (!honest) { expect.badAuth++; continue; }
      if (s.dst === 'unknown') { expect.noRoute++; continue; }
      if (s.dst === 'hostile') { expect.loop++; continue; }
      if (!toMaster) continue;
      const dead = s.replyTo === handles.IS_DEAD;
      if (s.handle === 'pending') onHostile ??= dead ? { kind: 'dead' } : { kind: 'reply', body: s.body };
      if (s.handle === 'pendingGood') {
        if (dead) onGood ??= { kind: 'dead' };
        else if (!onGood) expect.unexpected++; // refused, and the call stays pending
      }
      if ([handles.ADD_ROUTE, handles.DEL_ROUTE, handles.GET_MODULE].includes(handle) && !dead) {
        expect.brokerFrames++;
        if (!decodes(s.body)) expect.undecodableBroker++;
      }
    }
    frames += specs.length;

    await hostile.call(writeRaw, items);
    // That reply came after every hostile frame on the same pipe: all of them are routed by now.
    t.is(await hostile.call(() => 'alive'), 'alive');
    t.is(await good.call((n: number) => n + 1, cases), cases + 1);
    t.deepEqual(brokerFailures, []);

    const delta = (k: keyof Tally): number => seen[k] - before[k];
    t.is(delta('badAuth'), expect.badAuth, 'every forged frame is dropped and logged');
    t.is(delta('noRoute'), expect.noRoute, 'every unroutable frame is dropped and logged');
    t.is(delta('loop'), expect.loop);
    t.is(delta('oversize'), expect.oversize);
    t.is(delta('refused'), expect.refused);
    t.is(delta('unexpected'), expect.unexpected, 'a reply from the wrong context is refused and logged');
    t.true(delta('malformed') >= expect.undecodableBroker && delta('malformed') <= expect.brokerFrames,
      `malformed ${delta('malformed')} of ${expect.brokerFrames}, ${expect.undecodableBroker} undecodable`);

    // The call pending on the hostile child ends exactly as the first honest frame to its handle says.
    if (onHostile) {
      await waitUntil(() => hostileWatch.outcome.state !== 'pending', 5, 'the call settles');
      const o = hostileWatch.outcome;
      if (onHostile.kind === 'dead') t.true(o.state === 'rejected' && o.error instanceof ChannelError, describe(o));
      else if (onHostile.kind === 'reply' && !decodes(onHostile.body)) t.true(o.state === 'rejected' && o.error instanceof StreamError, describe(o));
      else if (onHostile.kind === 'reply') {
        // The call ends as that body says: a CallError rejects with it, a plain value resolves to it.
        const expected = decodeBody(onHostile.body, REF_MARKERS);
        if (expected instanceof CallError) t.true(o.state === 'rejected' && o.error instanceof CallError && o.error.message === expected.message, describe(o));
        else if (holdsRef(expected)) t.true(o.state === 'resolved' || (o.state === 'rejected' && o.error instanceof MitogenError), describe(o));
        else if (o.state === 'resolved') t.deepEqual(o.value, expected);
        else t.fail(`a decodable reply did not resolve the call: ${describe(o)}`);
      } else t.fail(`an effect the pending call cannot have: ${onHostile.kind}`);
    } else {
      t.is(hostileWatch.outcome.state, 'pending', 'nothing else settled the call');
    }
    // The call pending on the good child: a dead message may end it (as in Mitogen), a forged reply may not.
    if (onGood) {
      await waitUntil(() => goodWatch.outcome.state !== 'pending', 5, 'the dead message ends the call');
      t.true(goodWatch.outcome.state === 'rejected' && (goodWatch.outcome as { error: unknown }).error instanceof ChannelError, describe(goodWatch.outcome));
      pendingGood = callWithHandle(router, () => good.call(never));
      goodWatch = watch(pendingGood.promise);
    } else {
      t.is(goodWatch.outcome.state, 'pending', 'a frame from the hostile child did not settle a call to another context');
    }
    // The sentinel Receiver: whatever reached it decodes, or fails with a typed error.
    while (!sentinel.empty()) {
      try {
        (await sentinel.get()).decode();
      } catch (e) {
        t.true(e instanceof MitogenError, String(e));
      }
    }
    if (sentinel.isClosed) sentinel = new Receiver(router);
  });
  const t0 = performance.now();
  await fc.assert(property, { numRuns: RUNS });
  t.log(`${cases} cases, ${frames} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify(seen)}`);
  // Afterwards both children still work, and so does a new one.
  t.is(await hostile.call(() => 'still here'), 'still here');
  const fresh = await router.local();
  t.is(await fresh.call(() => 2 + 2), 4);
});

test.serial('bodies that are not msgpack, sent to a pending call\'s reply handle, reject the call with StreamError', async (t) => {
  const { router, hostile } = await fixture(t);
  const bodies = [Uint8Array.from([0xc1]), Uint8Array.from([0x92, 0x01]), ext(42, Uint8Array.from([1, 2, 3])), ext(2, new TextEncoder().encode('not a number'))];
  for (const body of bodies) {
    const { promise, handle } = callWithHandle(router, () => hostile.call(() => new Promise(() => {})));
    const frame = buildFrame({ dstId: 0, srcId: hostile.contextId, authId: hostile.contextId, handle, replyTo: 0 }, body);
    await hostile.call(writeRaw, [frame]);
    const err = await t.throwsAsync(promise, { instanceOf: StreamError });
    t.regex(err!.message, /^invalid message: /);
  }
  t.is(await hostile.call(() => 'alive'), 'alive');
});

test.serial('malformed bodies on the broker\'s own handles are dropped and logged; the master\'s broker lives on', async (t) => {
  const { router, hostile, good, logs, brokerFailures } = await fixture(t);
  const H = hostile.contextId;
  const junk = [Uint8Array.from([0xc1]), encodeBody(-7), encodeBody(['x', 5]), encodeBody([-1, 'neg']), encodeBody({ spec: 1 })];
  const frames = [handles.ADD_ROUTE, handles.DEL_ROUTE, handles.GET_MODULE].flatMap((handle) =>
    junk.map((body) => buildFrame({ dstId: 0, srcId: H, authId: H, handle, replyTo: 5000 }, body)));
  await hostile.call(writeRaw, frames);
  t.is(await hostile.call(() => 'alive'), 'alive');
  t.deepEqual(brokerFailures, []);
  t.is(count(logs, /malformed (ADD_ROUTE|DEL_ROUTE|GET_MODULE)/), frames.length);
  t.is(await good.call(() => 'fine'), 'fine');
  t.is(router.contextById(H)!.isDisconnected, false);
});

test.serial('a child cannot delete its own route, nor make a sibling believe the master is gone (DEL_ROUTE)', async (t) => {
  const { router, hostile, good, logs } = await fixture(t);
  const H = hostile.contextId;
  const del = (dst: number, id: number): Uint8Array => buildFrame({ dstId: dst, srcId: H, authId: H, handle: handles.DEL_ROUTE, replyTo: 0 }, encodeBody(id));
  await hostile.call(writeRaw, [del(0, H), del(good.contextId, 0)]);
  t.is(await hostile.call(() => 'alive'), 'alive');
  await waitUntil(() => count(logs, /refusing DEL_ROUTE/) >= 2, 5, 'both are refused in the log');
  t.false(hostile.isDisconnected);
  // good still believes in the master: a Receiver waiting on the master (failed at once were the
  // master thought gone) gets what the master sends it.
  const handle = await good.call(() => {
    const r = currentRouter()!;
    const rx = new Receiver(r, { respondent: r.contextFor(0) });
    (globalThis as { fromMaster?: Receiver }).fromMaster = rx;
    return rx.handle;
  });
  router.route(Message.encoded('from the master', { dstId: good.contextId, handle }));
  const answer = await good.call(async () => {
    const rx = (globalThis as { fromMaster?: Receiver }).fromMaster!;
    try { return (await rx.get({ timeout: 30 })).decode(); } catch (e) { return (e as Error).name; } finally { rx.close(); }
  });
  t.is(answer, 'from the master');
});

test.serial('a forged reply from a sibling to a call pending on another context is refused; the real reply still arrives', async (t) => {
  const { router, hostile, good, logs } = await fixture(t);
  // The good child answers only when we release it, so the forged reply surely comes first.
  const gate = await good.call(() => {
    const rx = new Receiver(currentRouter()!);
    (globalThis as { gate?: Receiver }).gate = rx;
    return rx.handle;
  });
  const { promise, handle } = callWithHandle(router, () => good.call(async () => {
    await (globalThis as { gate?: Receiver }).gate!.get({ timeout: 30 });
    return 'real';
  }));
  const forged = Message.encoded('forged', { dstId: 0, srcId: hostile.contextId, authId: hostile.contextId, handle });
  await hostile.call(writeRaw, [forged.toFrame()]);
  await waitUntil(() => logs.some((r) => /reply from unexpected context/.test(r.text)), 5, 'the forged reply is refused in the log');
  router.route(Message.encoded('go', { dstId: good.contextId, handle: gate }));
  t.is(await promise, 'real');
});
