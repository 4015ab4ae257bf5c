/**
 * Large frames reuse their buffers: a thread's broker gives each one back
 * once written (src/wire/frame-pool.ts, actors/frame-recycler.ts). Counted
 * here, with every byte checked, since a buffer reused too early would show
 * as another frame's bytes.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { currentRouter } from '../../src/index.js';
import { framePool } from '../../src/wire/frame-pool.js';
import { routerFor, waitUntil } from '../helpers.js';
import { host } from '../testbed.js';

const MiB = 1 << 20;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** What the test expects block i to be: 1 MiB filled with i, its first byte marking it. */
const expected = (i: number): Uint8Array => { const b = new Uint8Array(MiB).fill(i); b[0] = 255 - i; return b; };

test.serial('a child\'s large results come from buffers its broker gave back, and every one arrives intact', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const block = (i: number): Uint8Array => { const b = new Uint8Array(1 << 20).fill(i); b[0] = 255 - i; return b; };
  const before = await child.call(() => currentRouter()!.broker.framePool);
  const N = 8;
  for (let i = 0; i < N; i++) t.is(sha(await child.call(block, i)), sha(expected(i)), `result ${i}`);
  const after = await child.call(() => currentRouter()!.broker.framePool);
  // The first frame is fresh; each later one reuses the buffer the one before it went out in.
  t.true(after.hits - before.hits >= N - 2, `${after.hits - before.hits} of ${N} result frames reused a buffer`);
  t.true(after.returned - before.returned >= N - 1, `${after.returned - before.returned} of ${N} buffers came back`);
});

test.serial('the master\'s large arguments reuse buffers too; the pool is bounded and empties once idle', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const before = { hits: framePool.hits, returned: framePool.returned };
  const N = 8;
  for (let i = 0; i < N; i++) {
    const hash = await child.call((b: Uint8Array) => require('node:crypto').createHash('sha256').update(b).digest('hex') as string, expected(i));
    t.is(hash, sha(expected(i)), `argument ${i}`);
  }
  t.true(framePool.hits - before.hits >= N - 2, `${framePool.hits - before.hits} of ${N} call frames reused a buffer`);
  t.true(framePool.bytes <= 16 * MiB);
  // Not kept for ever: an idle thread holds no buffers (the pool lets go after 2 s unused).
  await waitUntil(() => framePool.bytes === 0, 15, 'the idle pool is empty');
  t.is(framePool.bytes, 0);
});

test.serial('a fork\'s large results, written to a port and not a socket, arrive intact and nothing is given back', async (t) => {
  const router = routerFor(t);
  const f = await router.fork();
  const block = (i: number): Uint8Array => { const b = new Uint8Array(1 << 20).fill(i); b[0] = 255 - i; return b; };
  for (let i = 0; i < 4; i++) t.is(sha(await f.call(block, i)), sha(expected(i)), `result ${i}`);
  const pool = await f.call(() => currentRouter()!.broker.framePool);
  t.is(pool.returned, 0, 'a buffer written to a port is not the broker\'s to give back');
});

test.serial('large frames to an ssh2 session, whose channel may hold a chunk past its write callback, arrive intact: none is reused there', async (t) => {
  const router = routerFor(t);
  const ctx = await router.ssh({
    hostname: host('h1').addr, username: 'mitouser1', identityFile: '/home/mitouser1/.ssh/id_mitotest',
    client: 'ssh2', checkHostKeys: 'ignore', compression: false,
  });
  const before = { hits: framePool.hits, returned: framePool.returned };
  const N = 8;
  for (let i = 0; i < N; i++) {
    const hash = await ctx.call((b: Uint8Array) => require('node:crypto').createHash('sha256').update(b).digest('hex') as string, expected(i));
    t.is(hash, sha(expected(i)), `argument ${i}`);
  }
  t.is(framePool.returned - before.returned, 0, 'nothing written to the ssh2 channel came back to the pool');
  // And the other way, where the target's broker writes to its stdout, a socket: its buffers come back.
  const block = (i: number): Uint8Array => { const b = new Uint8Array(1 << 20).fill(i); b[0] = 255 - i; return b; };
  for (let i = 0; i < N; i++) t.is(sha(await ctx.call(block, i)), sha(expected(i)), `result ${i}`);
  const there = await ctx.call(() => currentRouter()!.broker.framePool);
  t.true(there.returned >= N - 1, `${there.returned} of ${N} result buffers came back in the target`);
});
