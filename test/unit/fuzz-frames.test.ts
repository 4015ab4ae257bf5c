/**
 * Property-based fuzzing of the frame reader (StreamActor): whatever bytes
 * arrive, in whatever chunking, it never throws; it delivers exactly the valid
 * frames before any corruption, skips oversized bodies without buffering
 * them, and closes the stream with a reason on a bad magic. The soak form runs
 * more cases (MT_FUZZ_RUNS).
 */
import test from 'ava';
import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { StreamActor } from '../../actors/stream-actor.js';
import { buildFrame, HEADER_SIZE } from '../../src/wire/codec.js';
import type { Header } from '../../src/wire/codec.js';

// 48k + 48k + 4.8k: over 100k cases in npm test; the soak sets more.
const RUNS = Number(process.env.MT_FUZZ_RUNS ?? 48_000);
const MAX = 4096;

interface Seen { frames: Uint8Array[]; oversize: Header[]; closed?: string }

function reader(): { actor: StreamActor; seen: Seen } {
  const seen: Seen = { frames: [], oversize: [] };
  const actor = new StreamActor(new PassThrough(), new PassThrough(), { remoteId: 1, name: 'fuzz', maxMessageSize: MAX }, {
    frame: (f) => seen.frames.push(f),
    oversize: (h) => seen.oversize.push(h),
    closed: (_s, reason) => { seen.closed = reason; },
  });
  return { actor, seen };
}

const frameArb = fc.record({
  dstId: fc.nat(), srcId: fc.nat(), authId: fc.nat(), handle: fc.nat(), replyTo: fc.nat(),
  body: fc.uint8Array({ maxLength: 300 }),
}).map(({ body, ...h }) => buildFrame(h, body));

/** Splits bytes into random chunks. */
function chunked(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(Buffer.from(bytes.subarray(at, p)));
    at = Math.max(at, p);
  }
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

test('valid frames in any chunking arrive whole, in order, and nothing else', (t) => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
    const { actor, seen } = reader();
    for (const c of chunked(concat(frames), cuts)) actor.feed(c);
    return seen.closed === undefined && seen.frames.length === frames.length
      && seen.frames.every((f, i) => Buffer.compare(Buffer.from(f), Buffer.from(frames[i]!)) === 0);
  }), { numRuns: RUNS });
  t.pass();
});

test('random garbage never throws; a bad magic closes the stream with its reason; frames before it are kept', (t) => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 5 }), fc.uint8Array({ minLength: HEADER_SIZE, maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), (good, garbage, cuts) => {
    if (garbage[0] === 0x4d && garbage[1] === 0x54) garbage[0] = 0; // make sure the garbage is not a frame
    const { actor, seen } = reader();
    for (const c of chunked(concat([...good, garbage]), cuts)) actor.feed(c);
    return seen.frames.length === good.length && /^Corruption detected: frame signature incorrect/.test(seen.closed ?? '');
  }), { numRuns: RUNS });
  t.pass();
});

test('an oversized frame is reported and its body skipped without buffering; the frames after it still arrive', (t) => {
  fc.assert(fc.property(fc.integer({ min: MAX + 1, max: MAX * 8 }), frameArb, fc.array(fc.nat(), { maxLength: 20 }), (size, after, cuts) => {
    const big = buildFrame({ dstId: 1, srcId: 2, authId: 2, handle: 1000, replyTo: 1001 }, new Uint8Array(size));
    const { actor, seen } = reader();
    // Never more held than one frame the limit allows: the oversized body is not kept.
    let held = 0;
    for (const c of chunked(concat([big, after]), cuts)) { actor.feed(c); held = Math.max(held, actor.buffered); }
    return held <= HEADER_SIZE + MAX
      && seen.oversize.length === 1 && seen.oversize[0]!.length === size && seen.oversize[0]!.replyTo === 1001
      && seen.frames.length === 1 && Buffer.compare(Buffer.from(seen.frames[0]!), Buffer.from(after)) === 0 && seen.closed === undefined;
  }), { numRuns: Math.max(200, RUNS / 10) });
  t.pass();
});

test('a frame claiming a 1 GiB body: 64 MiB of it stream past and the reader holds no more than a header', (t) => {
  const { actor, seen } = reader();
  const head = buildFrame({ dstId: 1, srcId: 2, authId: 2, handle: 1000, replyTo: 0 }, new Uint8Array(0));
  new DataView(head.buffer, head.byteOffset).setUint32(HEADER_SIZE - 4, 2 ** 30); // the length field
  actor.feed(Buffer.from(head));
  t.is(seen.oversize.length, 1);
  t.is(seen.oversize[0]!.length, 2 ** 30);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let held = 0;
  for (let i = 0; i < 1024; i++) { actor.feed(chunk); held = Math.max(held, actor.buffered); }
  t.is(held, 0, 'bytes of the skipped body were held');
  t.is(seen.closed, undefined);
  t.deepEqual(seen.frames, []);
});
