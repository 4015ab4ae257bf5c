/** putFile/getFile's uid, gid, preserveTimes and fsync options, on real files (root changes owners; strace sees fsync). */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, routerFor, tempDirFor } from '../helpers.js';

const tempDir = (t: ExecutionContext): string => tempDirFor(t, 'mitogen-ts-file-opts-');

/** A small file with atime and mtime far in the past. */
function oldFile(path: string): void {
  writeFileSync(path, randomBytes(64 * 1024));
  utimesSync(path, 1_400_000_000, 1_300_000_000);
}

const MITOUSER1 = { uid: 1001, gid: 1001 };

test('uid and gid set the owner of the file written, in either direction', async (t) => {
  t.true(isRoot, 'changing owners needs root (the suite runs as root)');
  const router = routerFor(t);
  const ctx = await router.local();
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  oldFile(src);
  await ctx.putFile(src, join(dir, 'put.bin'), MITOUSER1);
  await ctx.getFile(src, join(dir, 'got.bin'), { gid: MITOUSER1.gid });
  t.like(statSync(join(dir, 'put.bin')), MITOUSER1);
  t.like(statSync(join(dir, 'got.bin')), { uid: 0, gid: MITOUSER1.gid });
  await ctx.putFile(src, join(dir, 'plain.bin'));
  t.like(statSync(join(dir, 'plain.bin')), { uid: 0, gid: 0 }, 'without them: the writer\'s own');
});

test('preserveTimes (default true) keeps the source\'s atime and mtime; false leaves the time of writing', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  oldFile(src);
  await ctx.putFile(src, join(dir, 'kept.bin'));
  t.like(statSync(join(dir, 'kept.bin')), { mtimeMs: 1_300_000_000_000, atimeMs: 1_400_000_000_000 });
  // Reading the source for the first copy moved its atime (relatime): the second keeps what the source has now.
  const atimeNow = statSync(src).atimeMs;
  await ctx.getFile(src, join(dir, 'kept-back.bin'));
  const back = statSync(join(dir, 'kept-back.bin'));
  t.is(back.mtimeMs, 1_300_000_000_000);
  t.true(Math.abs(back.atimeMs - atimeNow) < 0.01, `atime ${back.atimeMs}, source's ${atimeNow}`);
  await ctx.putFile(src, join(dir, 'fresh.bin'), { preserveTimes: false });
  await ctx.getFile(src, join(dir, 'fresh-back.bin'), { preserveTimes: false });
  // Written now: later than the copy's source by years (the source's times are from 2011).
  for (const f of ['fresh.bin', 'fresh-back.bin']) t.true(statSync(join(dir, f)).mtimeMs > statSync(src).mtimeMs + 1e11, f);
  t.deepEqual(readFileSync(join(dir, 'fresh.bin')), readFileSync(src));
});

test('fsync: the written file is synced before it is renamed into place, and only when asked', async (t) => {
  const router = routerFor(t);
  const dir = tempDir(t);
  const trace = join(dir, 'trace');
  // The child under strace, which records each fsync with the path of its fd (-y).
  const ctx = await router.local({ nodePath: ['strace', '-f', '-qq', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', trace, 'node'] });
  const src = join(dir, 'src.bin');
  oldFile(src);
  const syncsInto = (name: string): string[] => readFileSync(trace, 'utf8').split('\n').filter((l) => /\bf(data)?sync\(/.test(l) && l.includes(`${dir}/`) && l.includes(name));
  await ctx.putFile(src, join(dir, 'unsynced.bin'));
  await ctx.putFile(src, join(dir, 'synced.bin'), { fsync: true });
  await ctx.shutdown({ wait: true }); // strace has written everything once its tracee is gone
  const lines = readFileSync(trace, 'utf8').split('\n');
  const synced = lines.findIndex((l) => /\bf(data)?sync\(\d+<[^>]*synced\.bin/.test(l) && !l.includes('unsynced'));
  const renamed = lines.findIndex((l) => /rename/.test(l) && l.includes(`${dir}/synced.bin"`));
  t.true(synced >= 0, 'the file was synced');
  t.true(renamed > synced, 'before the rename put it in place');
  t.deepEqual(syncsInto('unsynced'), [], 'without fsync: no sync');
});
