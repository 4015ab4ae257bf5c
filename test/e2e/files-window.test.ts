/**
 * putFile's and getFile's `window`: the sender may have at most `window`
 * bytes unacknowledged. The receiver holds its file writes — and so its
 * acknowledgements — until the sender has read one chunk past the window;
 * with the window kept, the sender is then waiting for credit and has read
 * nothing further. Counted in the sender, never timed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { routerFor, tempDirFor } from '../helpers.js';

const CHUNK = 64 * 1024;
const WINDOW = 4 * CHUNK;

/** A source file of 64 chunks in a fresh directory, and a local child to move it to or from. */
async function setup(t: ExecutionContext) {
  const dir = tempDirFor(t, 'mt-window-');
  const data = randomBytes(64 * CHUNK);
  writeFileSync(join(dir, 'src'), data);
  const ctx = await routerFor(t).local();
  return { dir, data, ctx };
}

/** The prototype of this thread's fs/promises FileHandle (what the transfer code reads and writes through). */
async function fileHandlePrototype(): Promise<FileHandle> {
  const probe = await open('/dev/null');
  await probe.close();
  return Object.getPrototypeOf(probe) as FileHandle;
}

test.serial('getFile: the sender stops one chunk past `window` until the receiver acknowledges', async (t) => {
  const { dir, data, ctx } = await setup(t);
  // In the sender: count the chunk reads its file serving makes.
  await ctx.call(async () => {
    const { open: openFile } = await import('node:fs/promises');
    const fh = await openFile('/dev/null');
    const proto = Object.getPrototypeOf(fh) as { read: (...a: unknown[]) => Promise<unknown> };
    await fh.close();
    const g = globalThis as { reads?: number };
    g.reads = 0;
    const read = proto.read;
    proto.read = function (this: unknown, ...a: unknown[]) { g.reads!++; return read.apply(this, a); };
  });
  const reads = () => ctx.call(() => (globalThis as { reads?: number }).reads!);

  // In the receiver: hold every file write until released.
  const proto = await fileHandlePrototype();
  const write = proto.write;
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  proto.write = async function (this: FileHandle, ...a: Parameters<FileHandle['write']>) {
    await released;
    return (write as (...x: unknown[]) => ReturnType<FileHandle['write']>).apply(this, a);
  } as FileHandle['write'];
  t.teardown(() => { proto.write = write; });

  const done = ctx.getFile(join(dir, 'src'), join(dir, 'dst'), { window: WINDOW, chunkSize: CHUNK });
  // The window's four chunks are sent; the fifth is read and waits for credit. (Bounded: one round trip a look.)
  let seen = 0;
  for (let i = 0; i < 20_000 && seen < WINDOW / CHUNK + 1; i++) seen = await reads();
  t.true(seen >= WINDOW / CHUNK + 1, `the sender read ${seen} chunks`);
  const atRelease = await reads();
  release();
  await done;
  t.is(atRelease, WINDOW / CHUNK + 1, 'nothing more was read while no credit came back');
  t.true(readFileSync(join(dir, 'dst')).equals(data));
});

test.serial('putFile: the same, the other way: this process stops one chunk past `window` until the context acknowledges', async (t) => {
  const { dir, data, ctx } = await setup(t);
  // In the receiving context: hold every file write until released.
  await ctx.call(async () => {
    const { open: openFile } = await import('node:fs/promises');
    const fh = await openFile('/dev/null');
    const proto = Object.getPrototypeOf(fh) as { write: (...a: unknown[]) => Promise<unknown> };
    await fh.close();
    const g = globalThis as { release?: () => void };
    const released = new Promise<void>((r) => { g.release = r; });
    const write = proto.write;
    proto.write = async function (this: unknown, ...a: unknown[]) { await released; return write.apply(this, a); };
  });

  // Here, the sender: count the chunk reads putFile makes.
  const proto = await fileHandlePrototype();
  const read = proto.read;
  let reads = 0;
  proto.read = function (this: FileHandle, ...a: unknown[]) {
    reads++;
    return (read as (...x: unknown[]) => ReturnType<FileHandle['read']>).apply(this, a);
  } as FileHandle['read'];
  t.teardown(() => { proto.read = read; });

  const done = ctx.putFile(join(dir, 'src'), join(dir, 'dst'), { window: WINDOW, chunkSize: CHUNK });
  // Bounded: one round trip a look (the context answers while its writes wait).
  for (let i = 0; i < 20_000 && reads < WINDOW / CHUNK + 1; i++) await ctx.call(() => null);
  t.true(reads >= WINDOW / CHUNK + 1, `putFile read ${reads} chunks`);
  await ctx.call(() => null);
  const atRelease = reads;
  await ctx.call(() => (globalThis as { release?: () => void }).release!());
  await done;
  t.is(atRelease, WINDOW / CHUNK + 1, 'nothing more was read while no credit came back');
  t.true(readFileSync(join(dir, 'dst')).equals(data));
});
