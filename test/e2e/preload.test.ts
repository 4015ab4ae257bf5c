/**
 * Preloading: a module's static closure rides with it, so a package arrives
 * in one reply however many files it has. Every child here runs with the
 * modules hidden (an empty tmpfs over their directory) and the master's
 * broker counts the GET_MODULE requests it serves — counts, never times.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import test from 'ava';
import type { Router } from '../../src/index.js';
import { CallError, fnRef } from '../../src/index.js';
import { collectLogs, hidingNodePath, routerFor } from '../helpers.js';

const nodeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** GET_MODULE requests the master served while `body` ran. */
async function requestsDuring(router: Router, body: () => Promise<void>): Promise<number> {
  const before = (await router.broker.control((api) => api.stats())).moduleRequests;
  await body();
  return (await router.broker.control((api) => api.stats())).moduleRequests - before;
}

/** A fresh directory of generated modules, and a child that cannot see it. */
async function hiddenTree(t: Parameters<typeof routerFor>[0], files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'mt-preload-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const router = routerFor(t);
  const ctx = await router.local({ nodePath: hidingNodePath(dir) });
  t.deepEqual(await ctx.call((d: string) => require('node:fs').readdirSync(d), dir), [], 'the child cannot see the files');
  return { router, ctx, url: (name: string) => pathToFileURL(join(dir, name)).href };
}

const importValue = async (u: string): Promise<unknown> => (await import(u)).value;
const requireValue = (p: string): unknown => (require(p) as { value: unknown }).value;

function chain(n: number, ext: string, line: (i: number) => string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`m${i}${ext}`] = line(i);
  return files;
}

test('rxjs (hundreds of files) is imported into a child that lacks it in one request', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local({ nodePath: hidingNodePath(nodeModules) });
  t.deepEqual(await ctx.call((d: string) => require('node:fs').readdirSync(d), nodeModules), []);
  let got: unknown;
  const n = await requestsDuring(router, async () => {
    got = await ctx.call(async () => {
      const rx = await import('rxjs');
      return rx.firstValueFrom(rx.of(1, 2, 3).pipe(rx.map((x: number) => x * 2), rx.toArray()));
    });
  });
  t.deepEqual(got, [2, 4, 6]);
  t.is(n, 1);
  const preloaded = await ctx.call(async () => (await (await import('../../src/index.js')).currentRouter()!.broker.control((api) => api.stats())).modulesPreloaded);
  t.true(preloaded >= 100, `${preloaded} modules came preloaded`);
});

test('a chain of 40 TypeScript modules, each importing the next, takes one request', async (t) => {
  const { router, ctx, url } = await hiddenTree(t, {
    'package.json': '{"type":"module"}',
    ...chain(40, '.ts', (i) => (i < 39
      ? `import { value as next } from './m${i + 1}.js';\nexport const value: number = next + 1;\n`
      : 'export const value: number = 1;\n')),
  });
  const threadAsks = () => ctx.call(async () => (await (await import('../../src/index.js')).currentRouter()!.broker.control((api) => api.stats())).moduleThreadRequests);
  const before = await threadAsks();
  let v: unknown;
  t.is(await requestsDuring(router, async () => { v = await ctx.call(importValue, url('m0.ts')); }), 1);
  t.is(v, 40);
  // The ESM hooks asked the broker once; the other 39 resolved from their own copy.
  t.is(await threadAsks() - before, 1);
});

test('a chain of 40 CommonJS modules, each requiring the next, takes one request', async (t) => {
  const { router, ctx, url } = await hiddenTree(t, chain(40, '.cjs', (i) => (i < 39
    ? `exports.value = require('./m${i + 1}.cjs').value + 1;\n`
    : 'exports.value = 1;\n')));
  const threadAsks = () => ctx.call(async () => (await (await import('../../src/index.js')).currentRouter()!.broker.control((api) => api.stats())).moduleThreadRequests);
  const before = await threadAsks();
  let v: unknown;
  t.is(await requestsDuring(router, async () => { v = await ctx.call(requireValue, fileURLToPath(url('m0.cjs'))); }), 1);
  t.is(v, 40);
  // The main thread asked its broker once; the other 39 came from its own copy of the preload.
  t.is(await threadAsks() - before, 1);
});

test('a circular ESM graph, a package with exports conditions, JSON and a .ts tree arrive complete in one request', async (t) => {
  const { router, ctx, url } = await hiddenTree(t, {
    'package.json': '{"type":"module"}',
    'main.js': [
      "import { a } from './cycle-a.js';",
      "import data from './data.json' with { type: 'json' };",
      "import { pkg } from 'cond';",
      "import cjs from 'cond';",
      "import { ts } from './tree/index.ts';",
      'export const value = [a(), data.n, pkg, typeof cjs, ts];',
    ].join('\n'),
    'cycle-a.js': "import { b } from './cycle-b.js';\nexport const a = () => 'a' + b();\n",
    'cycle-b.js': "import { a } from './cycle-a.js';\nexport const b = () => 'b' + typeof a;\n",
    'data.json': '{"n": 7}',
    'node_modules/cond/package.json': JSON.stringify({
      name: 'cond', exports: { '.': { import: './esm.mjs', require: './cjs.cjs' } },
    }),
    'node_modules/cond/esm.mjs': "export const pkg = 'import condition';\nexport default 'esm';\n",
    'node_modules/cond/cjs.cjs': "exports.pkg = 'require condition';\n",
    'tree/index.ts': "import { leaf } from './leaf.js';\nexport const ts: string = leaf('ts');\n",
    'tree/leaf.ts': 'export const leaf = (s: string): string => s + \' tree\';\n',
  });
  let v: unknown;
  t.is(await requestsDuring(router, async () => { v = await ctx.call(importValue, url('main.js')); }), 1);
  t.deepEqual(v, ['abfunction', 7, 'import condition', 'string', 'ts tree']);
});

test('an ESM module importing CommonJS sees its named exports, as Node\'s cjs-module-lexer finds them', async (t) => {
  const { ctx, url } = await hiddenTree(t, {
    'main.mjs': "import { one, two, three } from './lib.cjs';\nexport const value = [one, two, three];\n",
    'lib.cjs': "module.exports = require('./inner.cjs');\n",
    'inner.cjs': "exports.one = 1;\nObject.defineProperty(exports, 'two', { enumerable: true, value: 2 });\nmodule.exports.three = 3;\n",
  });
  t.deepEqual(await ctx.call(importValue, url('main.mjs')), [1, 2, 3]);
});

test('a second child of the same intermediate is served from its table: no request reaches the master', async (t) => {
  const { router, ctx: middle, url } = await hiddenTree(t, chain(10, '.mjs', (i) => (i < 9
    ? `import { value as next } from './m${i + 1}.mjs';\nexport const value = next + 1;\n`
    : 'export const value = 1;\n')));
  const dir = fileURLToPath(new URL('..', url('m0.mjs')));
  const g1 = await router.local({ via: middle, nodePath: hidingNodePath(dir) });
  const g2 = await router.local({ via: middle, nodePath: hidingNodePath(dir) });
  t.is(await requestsDuring(router, async () => { t.is(await g1.call(importValue, url('m0.mjs')), 10); }), 1);
  t.is(await requestsDuring(router, async () => { t.is(await g2.call(importValue, url('m0.mjs')), 10); }), 0);
});

test('the burst bound holds: a closure larger than it still loads, in more requests', async (t) => {
  const pad = `// ${'x'.repeat(4000)}\n`;
  const { router, ctx, url } = await hiddenTree(t, chain(20, '.mjs', (i) => pad + (i < 19
    ? `import { value as next } from './m${i + 1}.mjs';\nexport const value = next + 1;\n`
    : 'export const value = 1;\n')));
  router.preloadBytes = 5 * 4100; // about five modules a burst
  let v: unknown;
  const n = await requestsDuring(router, async () => { v = await ctx.call(importValue, url('m0.mjs')); });
  t.is(v, 20);
  t.true(n >= 4 && n <= 5, `${n} requests for 20 modules at ~5 a burst`);
});

test('a denied module inside a preloaded closure is not sent, and fails only where it is imported', async (t) => {
  const logs = collectLogs(t);
  const { router, ctx, url } = await hiddenTree(t, {
    'main.mjs': "import { ok } from './ok.mjs';\nexport const value = ok;\nexport const later = () => import('./secret/key.mjs');\n",
    'ok.mjs': "export const ok = 'fine';\n",
    'secret/key.mjs': "export const key = 'hunter2';\n",
  });
  await router.denyModules(fileURLToPath(url('secret/')));
  t.is(await ctx.call(importValue, url('main.mjs')), 'fine');
  const refusals = () => logs.filter((r) => r.text.includes('refused module') && r.text.includes('secret/key.mjs'));
  t.is(refusals().length, 0, 'the denied module was neither sent nor asked for');
  const err = await t.throwsAsync(ctx.call(async (u: string) => (await (await import(u)).later()).key, url('main.mjs')), { instanceOf: CallError });
  t.regex(err!.message, /secret\/key\.mjs.*denied by the master's module policy/s);
  t.is(refusals().length, 1, 'the import that needed it asked, and was refused by name');
});

test('ssh2 required by a via context arrives in a few requests and prints no warning for its native addons', async (t) => {
  const logs = collectLogs(t);
  const router = routerFor(t);
  const ssh2Dir = join(nodeModules, 'ssh2');
  const hop = await router.local({ nodePath: hidingNodePath(ssh2Dir) });
  let loaded: unknown;
  const n = await requestsDuring(router, async () => {
    loaded = await hop.call(() => typeof (require('ssh2') as { Client: unknown }).Client);
  });
  t.is(loaded, 'function');
  t.true(n <= 3, `${n} requests`);
  t.deepEqual(logs.filter((r) => r.level === 'warn' && /ssh2|\.node\b|cpu-features/.test(r.text)).map((r) => r.text), []);
});

test('the master gathers what a called function imports while the call travels: once per function, never for a child that reads our files', async (t) => {
  const router = routerFor(t);
  const stats = () => router.broker.control((api) => api.stats());
  const useMsgpack = async (): Promise<number> => {
    const m = await import('@msgpack/msgpack');
    return m.decode(m.encode([1, 2, 3])) instanceof Array ? 3 : 0;
  };
  const hidden = await router.local({ nodePath: hidingNodePath(nodeModules) });
  const before = await stats();
  t.is(await hidden.call(useMsgpack), 3);
  await router.broker.control((api) => api.prefetchesSettled());
  const after = await stats();
  t.is(after.modulePrefetches - before.modulePrefetches, 1, 'the function was looked at once');
  // @msgpack/msgpack's CommonJS build: its index and the 15 files it requires.
  t.true(after.modulesPrefetched - before.modulesPrefetched >= 16, `${after.modulesPrefetched - before.modulesPrefetched} modules were ready for the call`);
  t.is(after.moduleRequests - before.moduleRequests, 1, 'the child still asked once, and was sent the whole closure');

  // The same function again, to a second child that lacks the files: served from the table, not looked at again.
  const second = await router.local({ nodePath: hidingNodePath(nodeModules) });
  t.is(await second.call(useMsgpack), 3);
  await router.broker.control((api) => api.prefetchesSettled());
  t.is((await stats()).modulePrefetches, after.modulePrefetches);

  // A plain local child reads the master's node_modules itself: its calls are not looked at.
  const plain = await router.local();
  t.is(await plain.call(async () => (await import('@msgpack/msgpack')).encode(1).length), 1);
  await router.broker.control((api) => api.prefetchesSettled());
  t.is((await stats()).modulePrefetches, after.modulePrefetches);
});

test('a module\'s exported function called by fnRef has its module and closure gathered ahead too', async (t) => {
  const { router, ctx, url } = await hiddenTree(t, {
    'task.mjs': "import { helper } from './lib.mjs';\nexport function run(n) { return helper() + n; }\n",
    'lib.mjs': 'export const helper = () => 40;\n',
  });
  const before = await router.broker.control((api) => api.stats());
  t.is(await ctx.call(fnRef(url('task.mjs'), 'run'), 2), 42);
  await router.broker.control((api) => api.prefetchesSettled());
  const after = await router.broker.control((api) => api.stats());
  t.is(after.modulePrefetches - before.modulePrefetches, 1);
  t.is(after.modulesPrefetched - before.modulesPrefetched, 2, 'task.mjs and lib.mjs');
});

test('TypeScript that is CommonJS (no "type": "module") imports an ES-only package: the child is sent it as CommonJS, converted, as tsx runs it', async (t) => {
  const { ctx, url } = await hiddenTree(t, {
    'node_modules/esm-only/package.json': '{"name":"esm-only","type":"module","exports":"./index.js"}',
    'node_modules/esm-only/index.js': "import { part } from './part.js';\nexport const v = part * 2;\nexport default function greet(n) { return `hi ${n}`; }\nexport const later = () => import('./part.js').then((m) => m.part);\n",
    'node_modules/esm-only/part.js': 'export const part = 21;\n',
    'node_modules/esm-tla/package.json': '{"name":"esm-tla","type":"module","exports":"./index.js"}',
    'node_modules/esm-tla/index.js': 'export const x = await Promise.resolve(1);\n',
    'task.ts': "import greet, { v, later } from 'esm-only';\nexport const value: string = `${greet('you')} ${v}`;\nexport const viaImport = (): Promise<number> => later();\n",
    'tla.ts': "import { x } from 'esm-tla';\nexport const value: number = x;\n",
  });
  t.is(await ctx.call(importValue, url('task.ts')), 'hi you 42');
  // A dynamic import() inside the converted module stays an import of the ES module.
  t.is(await ctx.call(async (u: string) => (await import(u)).viaImport(), url('task.ts')), 21);
  const err = await t.throwsAsync(ctx.call(importValue, url('tla.ts')), { instanceOf: CallError });
  t.regex(err!.message, /require\(\) of ES module .*esm-tla\/index\.js is not possible here .*top-level await/);
});

test('children of a fan-out asking for the same module are sent one burst, packed once', async (t) => {
  const router = routerFor(t);
  const kids = await Promise.all([1, 2, 3].map(() => router.local({ nodePath: hidingNodePath(nodeModules) })));
  const before = await router.broker.control((api) => api.stats());
  const got = await Promise.all(kids.map((k) => k.call(async () => (await import('rxjs')).firstValueFrom((await import('rxjs')).of(5)))));
  const after = await router.broker.control((api) => api.stats());
  t.deepEqual(got, [5, 5, 5]);
  t.is(after.moduleRequests - before.moduleRequests, 3, 'each child asked once');
  t.is(after.modulePacks - before.modulePacks, 1, 'the burst was packed once for the three');
  const preloaded = await Promise.all(kids.map((k) => k.call(async () => (await (await import('../../src/index.js')).currentRouter()!.broker.control((api) => api.stats())).modulesPreloaded)));
  t.true(preloaded.every((n) => n >= 100 && n === preloaded[0]), `each child was preloaded the whole package: ${preloaded.join(', ')}`);
});
