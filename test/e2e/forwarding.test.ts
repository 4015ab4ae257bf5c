/**
 * Module forwarding into a child that cannot see the modules: the child runs
 * in a private mount namespace where the fixture directory is an empty tmpfs,
 * so every module below it must come from the master.
 */
import test from 'ava';
import { CallError, currentRouter, fnRef } from '../../src/index.js';
import { fixturesDir, hidingNodePath, routerFor } from '../helpers.js';

const dir = `${fixturesDir}forwarding`;
const at = (rel: string): string => `file://${dir}/${rel}`;

async function hiddenChild(t: Parameters<typeof routerFor>[0]) {
  const router = routerFor(t);
  const ctx = await router.local({ nodePath: hidingNodePath(dir) });
  // The premise: the child really cannot see the files.
  t.deepEqual(await ctx.call((d: string) => require('node:fs').readdirSync(d), dir), []);
  return { router, ctx };
}

test('ESM with a relative import is forwarded', async (t) => {
  const { ctx } = await hiddenChild(t);
  t.is(await ctx.call(async (u: string) => (await import(u)).describe(), at('esm/main.js')), 'esm main sees 42');
  // Relative to the module that made the call (this test file).
  t.is(await ctx.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), 42);
});

test('CommonJS require of a module tree with JSON is forwarded synchronously', async (t) => {
  const { ctx } = await hiddenChild(t);
  t.deepEqual(await ctx.call(() => require('../fixtures/forwarding/cjs/main.cjs')), { total: 42, label: 'from json' });
});

test('JSON is forwarded to import() with a type attribute', async (t) => {
  const { ctx } = await hiddenChild(t);
  const data = await ctx.call(async (u: string) => (await import(u, { with: { type: 'json' } })).default, at('cjs/data.json'));
  t.deepEqual(data, { a: 40, b: 2, label: 'from json' });
});

test('TypeScript is transpiled on the way, with its own relative imports', async (t) => {
  const { ctx } = await hiddenChild(t);
  t.deepEqual(await ctx.call(fnRef(at('esm/greet.ts'), 'greet'), 'bob'), { text: 'hello bob', doubled: 6 });
});

test('a bare package is resolved as the master resolves it: import and require conditions', async (t) => {
  const { ctx } = await hiddenChild(t);
  t.is(await ctx.call(async (u: string) => (await import(u)).result, at('esm/uses-pkg.js')), 'fwd-pkg says hello (esm) [esm]');
  t.is(await ctx.call(() => require('../fixtures/forwarding/uses-pkg.js')()), 'fwd-pkg says hello (cjs)');
});

test('a module that exists nowhere rejects the call with CallError naming the specifier', async (t) => {
  const { ctx } = await hiddenChild(t);
  // @ts-expect-error: the module exists nowhere, on purpose
  const e1 = await t.throwsAsync(ctx.call(async () => import('./fixtures/forwarding/no-such-module.js')), { instanceOf: CallError });
  t.regex(e1!.message, /no-such-module\.js/);
  const e2 = await t.throwsAsync(ctx.call(() => require('no-such-package-anywhere')), { instanceOf: CallError });
  t.regex(e2!.message, /no-such-package-anywhere/);
  t.is(await ctx.call(() => 'alive'), 'alive');
});

test('an intermediate context answers its children from its cache', async (t) => {
  const { router, ctx: middle } = await hiddenChild(t);
  const nodePath = hidingNodePath(dir);
  const g1 = await router.local({ via: middle, nodePath });
  const g2 = await router.local({ via: middle, nodePath });
  const load = async (u: string) => (await import(u)).answer as number;
  t.is(await g1.call(load, at('esm/main.js')), 42);
  const stats = () => currentRouter()!.broker.control((api) => api.stats());
  const before = await middle.call(stats);
  const masterBefore = await router.broker.control((api) => api.stats());
  t.is(await g2.call(load, at('esm/main.js')), 42);
  const after = await middle.call(stats);
  const masterAfter = await router.broker.control((api) => api.stats());
  // g2 asked the middle once (main.js, with dep.js preloaded), and the middle answered from its table.
  t.is(after.moduleRequests, before.moduleRequests + 1, JSON.stringify({ before, after }));
  t.is(after.moduleMisses, before.moduleMisses);
  t.is(masterAfter.moduleRequests, masterBefore.moduleRequests, 'no request reached the master');
});
