/**
 * The credit of byte streams (putFile, getFile, fakessh), counted, never
 * timed: acknowledgements go back a few per window, not one per chunk; the
 * sender never has more unacknowledged than the window's maximum; over a
 * real round trip (the delay proxy in front of a test host's sshd) the
 * window grows to its maximum and not beyond. Counts come from the kits'
 * own stats: here (localKit) and in the other context (its own kit, read with kitOp).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { start } from '../../bench/lib/delay-proxy.js';
import { fakessh } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { localKit } from '../../src/features/kit-remote.js';
import type { KitStats } from '../../src/features/transfer-kit.js';
import { routerFor, tempDirFor } from '../helpers.js';
import { host } from '../testbed.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const tempDir = (t: ExecutionContext): string => tempDirFor(t, 'mt-credit-');

// In a called function: the dispatcher's scope (src/runtime/child-main.ts), an operation of the context's own kit.
declare const kitOp: (op: 'readStats') => Promise<KitStats>;

/** The stats of the kit `ctx` runs its transfers with (zeros before its first). */
function statsIn(ctx: Context): Promise<KitStats> {
  return ctx.call(() => kitOp('readStats'));
}

const here = (router: Router): KitStats => ({ ...localKit(router).stats });

test('putFile and getFile: a credit message per several chunks, and never more unacknowledged than the window\'s maximum', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const data = randomBytes(16 * MiB);
  writeFileSync(join(dir, 'src'), data);
  const chunkSize = 64 * KiB;
  const chunks = data.byteLength / chunkSize;
  const window = { bytes: MiB, maxBytes: 2 * MiB };

  /** What one transfer's two kits counted: every chunk, few credit messages, all of them arrived, the window held. */
  const check = (what: string, file: string, sender: KitStats, receiver: KitStats): void => {
    t.true(readFileSync(join(dir, file)).equals(data));
    t.is(sender.chunksSent, chunks);
    t.is(receiver.chunksReceived, chunks);
    // Half a window is 8 chunks; an early grant when the sender waits may come sooner, but rarely.
    t.true(receiver.creditsSent * 4 <= chunks, `${what}: ${receiver.creditsSent} credit messages for ${chunks} chunks`);
    t.is(sender.creditsReceived, receiver.creditsSent, 'every credit message arrived');
    t.true(sender.maxInflight <= window.maxBytes, `${what}: ${sender.maxInflight} bytes unacknowledged`);
    t.log(`${what}: ${chunks} chunks, ${receiver.creditsSent} credit messages, ${sender.waits} waits`);
  };

  await child.putFile(join(dir, 'src'), join(dir, 'put'), { chunkSize, window });
  check('putFile', 'put', here(router), await statsIn(child));

  await child.getFile(join(dir, 'put'), join(dir, 'got'), { chunkSize, window });
  const receiver = here(router);
  check('getFile', 'got', await statsIn(child), receiver);
});

test('a window smaller than a chunk still flows: one chunk at a time, each granted as the sender waits', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const data = randomBytes(MiB + 17);
  writeFileSync(join(dir, 'src'), data);
  const window = { bytes: 16 * KiB, maxBytes: 16 * KiB };
  await child.putFile(join(dir, 'src'), join(dir, 'put'), { chunkSize: 64 * KiB, window });
  await child.getFile(join(dir, 'put'), join(dir, 'got'), { chunkSize: 64 * KiB, window });
  t.true(readFileSync(join(dir, 'got')).equals(data));
  // One chunk in flight at a time: never more than the one chunk.
  t.true(here(router).maxInflight <= 64 * KiB);
  t.true((await statsIn(child)).maxInflight <= 64 * KiB);
});

test('a bad window is refused by name with a RangeError, before any file is opened or created', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  writeFileSync(join(dir, 'src'), 'x');
  await t.throwsAsync(child.putFile(join(dir, 'src'), join(dir, 'put'), { window: 0 }), { instanceOf: RangeError, message: /window\.bytes must be a whole number >= 1, got 0/ });
  await t.throwsAsync(child.getFile(join(dir, 'src'), join(dir, 'got'), { window: { bytes: 1024, maxBytes: 512 } }), { instanceOf: RangeError, message: /window\.maxBytes \(512\) must be >= window\.bytes \(1024\)/ });
  t.deepEqual(readdirSync(dir), ['src'], 'no file or temporary file was left');
});

test('fakessh: stdin and stdout relays grant credit a few times a window, not per chunk', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const dir = tempDir(t);
  const file = join(dir, 'data.bin');
  writeFileSync(file, randomBytes(32 * MiB));
  const down = await fakessh.run(child, ['sh', '-c', `ssh h "cat '${file}'" | cmp - '${file}'`]);
  t.is(down.code, 0, down.stderr);
  const afterDown = here(router);
  // stdout: chunks from the remote command's pipe reach our Inlet.
  t.true(afterDown.chunksReceived >= 32 * MiB / (1 * MiB), `${afterDown.chunksReceived} chunks`);
  t.true(afterDown.creditsSent * 8 <= afterDown.chunksReceived, `stdout: ${afterDown.creditsSent} credit messages for ${afterDown.chunksReceived} chunks`);
  const remoteDown = await statsIn(child);
  t.true(remoteDown.maxInflight <= 64 * MiB, `${remoteDown.maxInflight} bytes unacknowledged`);

  const up = await fakessh.run(child, ['sh', '-c', `cat '${file}' | ssh h "cmp - '${file}'"`]);
  t.is(up.code, 0, up.stderr);
  const sent = here(router).chunksSent - afterDown.chunksSent;
  const remote = await statsIn(child);
  const granted = remote.creditsSent - remoteDown.creditsSent;
  t.true(sent >= 32, `${sent} stdin chunks`);
  t.true(granted * 8 <= sent, `stdin: ${granted} credit messages for ${sent} chunks`);
  t.log(`stdout: ${afterDown.chunksReceived} chunks, ${afterDown.creditsSent} credit messages; stdin: ${sent} chunks, ${granted} credit messages`);
});

test('over a 20 ms round trip getFile\'s window grows to its maximum and not beyond; the sender stays within it', async (t) => {
  const router = routerFor(t);
  const proxy = await start({ target: { host: host('h1').addr, port: 22 }, delayMs: 10 });
  t.teardown(() => proxy.close());
  const ctx = await router.ssh({
    hostname: '127.0.0.1', port: proxy.port, username: 'mitouser1', identityFile: '/home/mitouser1/.ssh/id_mitotest',
    client: 'ssh2', checkHostKeys: 'ignore', compression: false,
  });
  // The test host shares this filesystem: it serves a file everyone may read.
  const dir = tempDir(t);
  const data = randomBytes(16 * MiB);
  writeFileSync(join(dir, 'src'), data, { mode: 0o644 });
  chmodSync(dir, 0o755);
  const window = { bytes: 128 * KiB, maxBytes: MiB };
  await ctx.getFile(join(dir, 'src'), join(dir, 'got'), { chunkSize: 64 * KiB, window });
  t.true(readFileSync(join(dir, 'got')).equals(data));
  const receiver = here(router);
  const sender = await statsIn(ctx);
  t.is(receiver.maxGranted, MiB, 'the window grew to its maximum');
  t.true(sender.maxInflight <= MiB, `${sender.maxInflight} bytes unacknowledged`);
  t.true(receiver.creditsSent * 2 <= receiver.chunksReceived, `${receiver.creditsSent} credit messages for ${receiver.chunksReceived} chunks`);
  t.log(`over the proxy: ${receiver.chunksReceived} chunks, ${receiver.creditsSent} credit messages, window grew to ${receiver.maxGranted}`);
});
