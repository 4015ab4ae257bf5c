import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { CancelledError, ChannelError, FileTransferError } from '../../src/index.js';
import type { TransferProgress } from '../../src/features/file-transfer.js';
import type { TraceRecord } from '../../src/index.js';
import { CALL_FUNCTION } from '../../src/wire/handles.js';
import { grandchildFor, isRoot, routerFor, tempDirFor } from '../helpers.js';
import type { ExecutionContext } from 'ava';

const MiB = 1024 * 1024;

const tempDir = (t: ExecutionContext): string => tempDirFor(t, 'mitogen-ts-files-');

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A file of `size` random bytes with mode 0640 and an mtime in the past. */
function randomFile(path: string, size: number): void {
  writeFileSync(path, randomBytes(size));
  chmodSync(path, 0o640);
  utimesSync(path, 1_600_000_000.25, 1_500_000_000.5);
}

test('putFile and getFile round-trip a random 5 MiB file through a grandchild, keeping content, mode and mtime', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  mkdirSync(join(dir, 'there'));
  mkdirSync(join(dir, 'back'));
  const src = join(dir, 'src.bin');
  randomFile(src, 5 * MiB);
  const there = join(dir, 'there', 'copy.bin');
  const back = join(dir, 'back', 'copy.bin');
  await grandchild.putFile(src, there);
  await grandchild.getFile(there, back);
  for (const p of [there, back]) {
    t.is(sha256(p), sha256(src), p);
    const st = statSync(p);
    t.is(st.mode & 0o7777, 0o640, p);
    t.true(Math.abs(st.mtimeMs - 1_500_000_000_500) < 1, `${p} mtime ${st.mtimeMs}`);
  }
  // Nothing but the file itself: the temporary files were renamed.
  t.deepEqual(readdirSync(join(dir, 'there')), ['copy.bin']);
  t.deepEqual(readdirSync(join(dir, 'back')), ['copy.bin']);
  // An explicit mode wins over the source's; an existing destination is replaced.
  await grandchild.putFile(src, there, { mode: 0o600 });
  t.is(statSync(there).mode & 0o7777, 0o600);
  t.is(sha256(there), sha256(src));
});

test.serial('a 1 GiB file goes to a child and back with the master\'s RSS bounded', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const src = join(dir, 'big.src');
  // Sparse, with random blocks scattered through it so the comparison means something.
  execFileSync('truncate', ['-s', '1G', src]);
  const fd = openSync(src, 'r+');
  for (const at of [0, 123 * MiB + 17, 700 * MiB, 1024 * MiB - 4096]) writeSync(fd, randomBytes(4096), 0, 4096, at);
  closeSync(fd);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  try {
    await child.putFile(src, join(dir, 'big.put'));
    await child.getFile(join(dir, 'big.put'), join(dir, 'big.get'));
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const growth = (peak - base) / MiB;
  t.log(`master RSS grew by ${growth.toFixed(0)} MiB moving 2 GiB`);
  t.true(growth < 150, `master RSS grew by ${growth.toFixed(0)} MiB`);
  t.is(statSync(join(dir, 'big.get')).size, 1024 * MiB);
  // cmp exits 0 only when the files are identical.
  execFileSync('cmp', [src, join(dir, 'big.get')]);
  execFileSync('cmp', [src, join(dir, 'big.put')]);
  t.pass();
});

test('progress: a Subject or a callback sees bytes rise monotonically to the total, then complete', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  randomFile(src, 5 * MiB + 123);
  const total = 5 * MiB + 123;

  const subject = new Subject<TransferProgress>();
  const seen: TransferProgress[] = [];
  let completed = false;
  subject.subscribe({ next: (p) => seen.push(p), complete: () => { completed = true; } });
  await child.putFile(src, join(dir, 'put.bin'), { progress: subject, chunkSize: 256 * 1024 });

  const viaCallback: TransferProgress[] = [];
  await child.getFile(join(dir, 'put.bin'), join(dir, 'get.bin'), { progress: (p) => viaCallback.push(p), chunkSize: 256 * 1024 });

  for (const [name, events] of [['putFile', seen], ['getFile', viaCallback]] as const) {
    t.true(events.length >= 20, `${name}: ${events.length} events`);
    t.deepEqual(events[0], { bytes: 0, total }, name);
    t.deepEqual(events.at(-1), { bytes: total, total }, name);
    t.true(events.every((p, i) => p.total === total && (i === 0 || p.bytes > events[i - 1]!.bytes)), `${name}: monotonic`);
  }
  t.true(completed, 'the Subject completed');
});

test('an AbortSignal cancels putFile and getFile with CancelledError, leaving no partial or temporary file', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  execFileSync('truncate', ['-s', '64M', src]);
  mkdirSync(join(dir, 'put'));
  mkdirSync(join(dir, 'get'));

  // Cancel once the first chunk has been written at the far end: 56 MiB or more are still to go.
  for (const op of ['put', 'get'] as const) {
    const ac = new AbortController();
    const opts = { signal: ac.signal, progress: (p: TransferProgress) => { if (p.bytes > 0) ac.abort(); } };
    const dest = join(dir, op, 'dest.bin');
    const transfer = op === 'put' ? grandchild.putFile(src, dest, opts) : grandchild.getFile(src, dest, opts);
    await t.throwsAsync(transfer, { instanceOf: CancelledError, message: `${op}File cancelled` });
    t.deepEqual(readdirSync(join(dir, op)), [], `${op}: nothing left in the destination directory`);
  }

  // A signal aborted beforehand: nothing starts.
  const ac = new AbortController();
  ac.abort();
  await t.throwsAsync(grandchild.putFile(src, join(dir, 'put', 'x'), { signal: ac.signal }), { instanceOf: CancelledError });
  await t.throwsAsync(grandchild.getFile(src, join(dir, 'get', 'x'), { signal: ac.signal }), { instanceOf: CancelledError });
  t.deepEqual([...readdirSync(join(dir, 'put')), ...readdirSync(join(dir, 'get'))], []);
  // The context is still in service.
  await grandchild.putFile(src, join(dir, 'put', 'after.bin'));
  t.is(statSync(join(dir, 'put', 'after.bin')).size, 64 * MiB);
});

test('a context that dies mid-transfer fails it with ChannelError, leaving no local temporary file', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const pid = await child.call(() => process.pid);
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  execFileSync('truncate', ['-s', '64M', src]);
  mkdirSync(join(dir, 'get'));
  const e = await t.throwsAsync(child.getFile(src, join(dir, 'get', 'dest.bin'), {
    progress: (p) => { if (p.bytes > 0) process.kill(pid, 'SIGKILL'); },
  }), { instanceOf: ChannelError });
  t.regex(e.message, /^getFile: lost the other end of the transfer: .*disconnected/);
  t.deepEqual(readdirSync(join(dir, 'get')), []);
});

test('errors name the path and the side: no such file, permission denied, disk full', async (t) => {
  t.true(isRoot, 'this test runs children as nobody and in a private mount namespace: it needs root');
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const src = join(dir, 'src.bin');
  randomFile(src, 3 * MiB);
  const missing = join(dir, 'missing.bin');

  const noSrcPut = await t.throwsAsync(child.putFile(missing, join(dir, 'x')), { instanceOf: FileTransferError });
  t.is(noSrcPut.message, `putFile: no such file or directory: ${missing} (ENOENT in master)`);
  t.like(noSrcPut, { code: 'ENOENT', path: missing, side: 'master' });

  const noSrcGet = await t.throwsAsync(child.getFile(missing, join(dir, 'x')), { instanceOf: FileTransferError });
  t.is(noSrcGet.message, `getFile: no such file or directory: ${missing} (ENOENT in ${child.name})`);
  t.like(noSrcGet, { code: 'ENOENT', path: missing, side: child.name });

  const noDir = join(dir, 'no-such-dir', 'x');
  await t.throwsAsync(child.putFile(src, noDir), { instanceOf: FileTransferError, message: `putFile: no such file or directory: ${noDir} (ENOENT in ${child.name})` });
  await t.throwsAsync(child.getFile(src, noDir), { instanceOf: FileTransferError, message: `getFile: no such file or directory: ${noDir} (ENOENT in master)` });
  await t.throwsAsync(child.getFile(dir, join(dir, 'x')), { instanceOf: FileTransferError, message: `getFile: is a directory: ${dir} (EISDIR in ${child.name})` });

  // A context running as nobody may not write into a directory of root's.
  const nobody = await router.local({ nodePath: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', 'node'] });
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o755 });
  const denied = join(locked, 'x');
  const e = await t.throwsAsync(nobody.putFile(src, denied), { instanceOf: FileTransferError });
  t.is(e.message, `putFile: permission denied: ${denied} (EACCES in ${nobody.name})`);

  // A 1 MiB tmpfs, seen only by that context: the 3 MiB file does not fit, and no partial file stays.
  const small = join(dir, 'small');
  mkdirSync(small);
  const cramped = await router.local({
    nodePath: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t tmpfs -o size=1m none '${small}' && exec node "$@"`, 'sh'],
  });
  const full = join(small, 'x');
  const enospc = await t.throwsAsync(cramped.putFile(src, full), { instanceOf: FileTransferError });
  t.is(enospc.message, `putFile: disk full: ${full} (ENOSPC in ${cramped.name})`);
  t.deepEqual(await cramped.call((d: string) => require('node:fs').readdirSync(d), small), []);
  // Nothing else was left behind anywhere in the tree.
  t.deepEqual(readdirSync(dir).sort(), ['locked', 'small', 'src.bin']);
});

test('a transfer call names the operation of the kit the target already holds: its CALL_FUNCTION is small, the kit\'s source never travels', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const local = join(dir, 'small');
  writeFileSync(local, 'x'.repeat(100));
  const calls: TraceRecord[] = [];
  const sub = router.routed$.subscribe((r) => { if (r.handle === CALL_FUNCTION && r.dstId === child.contextId) calls.push(r); });
  await router.broker.control((api) => api.stats()); // the broker traces from here on
  await child.putFile(local, join(dir, 'there'));
  await child.getFile(join(dir, 'there'), join(dir, 'back'));
  sub.unsubscribe();
  t.is(readFileSync(join(dir, 'back'), 'utf8'), 'x'.repeat(100));
  t.is(calls.length, 2, 'one call for each transfer');
  // The kit's source is ~20 KB; the operation's name, its arguments and a one-line function are a few hundred bytes.
  for (const c of calls) t.true(c.size < 2048, `a CALL_FUNCTION of ${c.size} bytes`);
});
