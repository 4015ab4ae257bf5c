/** A turn's frames between a main thread and its broker: packed when small, moved when large, always in order. */
import test from 'ava';
import { MessageChannel } from 'node:worker_threads';
import { buildFrame, readHeader } from '../../src/wire/codec.js';
import { batchFrames, isFrameBatch, PACK_MAX_FRAME, PACK_SIZE, unbatchFrames } from '../../src/wire/frame-batch.js';
import type { FrameBatch } from '../../src/wire/frame-batch.js';

const frame = (handle: number, size: number): Uint8Array =>
  buildFrame({ dstId: 1, srcId: 0, authId: 0, handle, replyTo: 0 }, new Uint8Array(size).fill(handle % 251));

/** Posts a batch over a real MessagePort, as the broker does, and returns what arrives, cut into frames. */
async function cross(frames: Uint8Array[]): Promise<{ got: Uint8Array[]; msg: FrameBatch }> {
  const { port1, port2 } = new MessageChannel();
  const { msg, transfer } = batchFrames(frames);
  const arrived = new Promise<unknown>((resolve) => port2.once('message', resolve));
  port1.postMessage(msg, transfer);
  const data = await arrived;
  port1.close();
  if (!isFrameBatch(data)) throw new Error('not a frame batch');
  const got: Uint8Array[] = [];
  unbatchFrames(data, (f) => got.push(f));
  return { got, msg };
}

const handles = (fs: Uint8Array[]): number[] => fs.map((f) => readHeader(f).handle);
const bodiesIntact = (fs: Uint8Array[]): boolean => fs.every((f) => f.subarray(26).every((b) => b === readHeader(f).handle % 251));

test('many small frames cross as one pack, one transfer, and arrive whole and in order', async (t) => {
  const frames = Array.from({ length: 10_000 }, (_, i) => frame(1000 + i, i % 60));
  const { msg, transfer } = batchFrames(frames);
  t.true('packs' in msg);
  t.is(transfer.length, 1);
  const { got } = await cross(Array.from({ length: 10_000 }, (_, i) => frame(1000 + i, i % 60)));
  t.deepEqual(handles(got), frames.map((_, i) => 1000 + i));
  t.true(bodiesIntact(got));
  t.true(got.every((f, i) => f.byteLength === 26 + (i % 60)));
});

test('packs close at PACK_SIZE: a larger burst becomes several, still in order', async (t) => {
  const n = Math.ceil((3 * PACK_SIZE) / (26 + 10_000));
  const frames = Array.from({ length: n }, (_, i) => frame(i + 1, 10_000));
  const { msg } = batchFrames(frames);
  t.true('packs' in msg && msg.packs.length === 4 && msg.packs.every((p) => p.byteLength <= PACK_SIZE));
  const { got } = await cross(Array.from({ length: n }, (_, i) => frame(i + 1, 10_000)));
  t.deepEqual(handles(got), frames.map((_, i) => i + 1));
  t.true(bodiesIntact(got));
});

test('a burst holding a large frame is not packed: each frame is moved, not copied, in order', async (t) => {
  const frames = [frame(1, 10), frame(2, PACK_MAX_FRAME), frame(3, 10)];
  const { msg, transfer } = batchFrames(frames);
  t.true(Array.isArray(msg));
  t.is(transfer.length, 3);
  t.is((msg as Uint8Array[])[1], frames[1], 'the large frame itself, not a copy');
  const { got } = await cross([frame(1, 10), frame(2, PACK_MAX_FRAME), frame(3, 10)]);
  t.deepEqual(handles(got), [1, 2, 3]);
  t.true(bodiesIntact(got));
});

test('a lone frame crosses as itself; one that is a view into a larger buffer is copied out, never detaching or carrying that buffer', async (t) => {
  const lone = frame(7, 100);
  t.deepEqual(batchFrames([lone]), { msg: lone, transfer: [lone.buffer as ArrayBuffer] });
  const shared = new Uint8Array(1000);
  const inner = frame(8, 20);
  shared.set(inner, 100);
  const view = shared.subarray(100, 100 + inner.byteLength);
  const { msg, transfer } = batchFrames([view]);
  t.true(msg instanceof Uint8Array && msg !== view && msg.buffer.byteLength === inner.byteLength);
  t.deepEqual(transfer, [(msg as Uint8Array).buffer]);
  const { got } = await cross([shared.subarray(100, 100 + inner.byteLength)]);
  t.deepEqual(handles(got), [8]);
  t.is(got[0]!.buffer.byteLength, inner.byteLength, 'only the frame crossed');
  t.is(shared.byteLength, 1000, 'the owner is untouched');
});

test('frames that share one buffer (cut from one socket read) pack without detaching it', async (t) => {
  const a = frame(1, 5); const b = frame(2, 7);
  const read = new Uint8Array(a.byteLength + b.byteLength);
  read.set(a, 0); read.set(b, a.byteLength);
  const { got } = await cross([read.subarray(0, a.byteLength), read.subarray(a.byteLength)]);
  t.deepEqual(handles(got), [1, 2]);
  t.is(read.byteLength, a.byteLength + b.byteLength);
});
