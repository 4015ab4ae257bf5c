/**
 * The master's module resolver and loader, against real files in
 * test/fixtures/resolver: `cjs/` is a CommonJS scope (the fixtures' own
 * package.json), `esm/` a "type": "module" scope, `node_modules/` holds
 * packages with `exports` maps, a scoped package, main-only and index-only
 * packages. Where Node can answer the same question, the tests ask it too.
 */
import test from 'ava';
import { transform } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  formatOf, loadModule, ModuleNotFoundError, ModuleRefusedError, resolveModule,
} from '../../src/master/module-resolver.js';
import type { ModuleFormat, Transpile } from '../../src/master/module-resolver.js';

const fixtures = new URL('../fixtures/resolver/', import.meta.url);
/** The file: URL of a fixture, e.g. at('esm/plain.js'). */
const at = (rel: string): string => new URL(rel, fixtures).href;
const esmParent = at('esm/parent.js');
const cjsParent = at('cjs/parent.js');
/** Node's own ESM resolver, run from esm/node-resolve.mjs (a plain .mjs fixture, imported by URL as it has no types). */
const { nodeResolve: resolveWithNode } = await import(at('esm/node-resolve.mjs')) as {
  nodeResolve: (specifier: string) => string;
};

const importOf = (specifier: string, parent = esmParent): string => resolveModule(specifier, parent, 'import').url;
const requireOf = (specifier: string, parent = cjsParent): string => resolveModule(specifier, parent, 'require').url;
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A scratch directory for symlink tests, removed after the test. */
function scratch(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mitogen-resolver-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('builtins resolve to node: URLs with or without the prefix, for import and require', (t) => {
  t.deepEqual(resolveModule('fs', esmParent, 'import'), { url: 'node:fs', format: 'builtin' });
  t.deepEqual(resolveModule('node:fs', esmParent, 'import'), { url: 'node:fs', format: 'builtin' });
  t.deepEqual(resolveModule('fs/promises', cjsParent, 'require'), { url: 'node:fs/promises', format: 'builtin' });
  t.deepEqual(resolveModule('node:path', cjsParent, 'require'), { url: 'node:path', format: 'builtin' });
  // Only reachable with the prefix: not in builtinModules, still a builtin.
  t.deepEqual(resolveModule('node:test', esmParent, 'import'), { url: 'node:test', format: 'builtin' });
});

test('import: relative, absolute and file: URL specifiers name exact files', (t) => {
  t.deepEqual(resolveModule('./plain.js', esmParent, 'import'), { url: at('esm/plain.js'), format: 'module' });
  t.deepEqual(resolveModule('../cjs/util.js', esmParent, 'import'), { url: at('cjs/util.js'), format: 'commonjs' });
  t.deepEqual(resolveModule('./data.json', esmParent, 'import'), { url: at('esm/data.json'), format: 'json' });
  t.is(importOf(fileURLToPath(at('esm/plain.js'))), at('esm/plain.js'));
  t.is(importOf(at('cjs/thing.cjs')), at('cjs/thing.cjs'));
  t.is(importOf('./plain.js?v=2#top'), `${at('esm/plain.js')}?v=2#top`);
  // The parent may be given as an absolute path too.
  t.is(importOf('./plain.js', fileURLToPath(esmParent)), at('esm/plain.js'));
});

test('import: x.js names x.ts (and .mjs .mts, .cjs .cts) only when x.js is absent', (t) => {
  t.deepEqual(resolveModule('./helper.js', esmParent, 'import'), { url: at('esm/helper.ts'), format: 'module' });
  t.deepEqual(resolveModule('./sub.mjs', esmParent, 'import'), { url: at('esm/sub.mts'), format: 'module' });
  t.deepEqual(resolveModule('./legacy.cjs', esmParent, 'import'), { url: at('esm/legacy.cts'), format: 'commonjs' });
  t.is(importOf('./both.js'), at('esm/both.js'));
  t.is(importOf('./helper.ts'), at('esm/helper.ts'));
});

test('import: no extension search, no directories; errors name the specifier and the parent', (t) => {
  const parentPath = fileURLToPath(esmParent);
  const missing = t.throws(() => importOf('./missing.js'), { instanceOf: ModuleNotFoundError });
  t.is(missing.message, `Cannot find module './missing.js' imported from ${parentPath}`);
  t.is(missing.code, 'ERR_MODULE_NOT_FOUND');
  t.is(missing.specifier, './missing.js');
  t.is(missing.parentUrl, esmParent);
  t.throws(() => importOf('./plain'), { instanceOf: ModuleNotFoundError, message: /'\.\/plain'/ });
  t.throws(() => importOf('../cjs/util'), { instanceOf: ModuleNotFoundError });
  t.throws(() => importOf('./dir'), { instanceOf: ModuleNotFoundError, message: /is a directory/ });
  t.throws(() => importOf('./dir/'), { instanceOf: ModuleNotFoundError, message: /is a directory/ });
  t.throws(() => importOf('https://example.com/x.js'), { instanceOf: ModuleNotFoundError, message: /https:/ });
  t.throws(() => importOf('#internal'), { instanceOf: ModuleNotFoundError, message: /#internal/ });
});

test('require: Node\'s CommonJS search for extensions, JSON, directory index, packages', (t) => {
  t.deepEqual(resolveModule('./util', cjsParent, 'require'), { url: at('cjs/util.js'), format: 'commonjs' });
  t.deepEqual(resolveModule('./data', cjsParent, 'require'), { url: at('cjs/data.json'), format: 'json' });
  t.is(requireOf('./lib'), at('cjs/lib/index.js'));
  t.is(requireOf('./thing.cjs'), at('cjs/thing.cjs'));
  // .cjs is not among require's implied extensions.
  t.throws(() => requireOf('./thing'), { instanceOf: ModuleNotFoundError, message: /'\.\/thing' imported from/ });
  // Requiring ESM is the child's business; the format is reported as it is.
  t.deepEqual(resolveModule('../esm/plain', cjsParent, 'require'), { url: at('esm/plain.js'), format: 'module' });
  t.is(requireOf('main-only'), at('node_modules/main-only/lib/start.js'));
  t.is(requireOf('index-only/other'), at('node_modules/index-only/other.js'));
  t.is(requireOf('near-pkg', esmParent), at('esm/node_modules/near-pkg/index.js'));
  t.throws(() => requireOf('absent-pkg'), { instanceOf: ModuleNotFoundError, message: /absent-pkg/ });
});

test('exports: import and require conditions pick different files, in the order the package lists them', (t) => {
  t.deepEqual(resolveModule('cond-pkg', esmParent, 'import'),
    { url: at('node_modules/cond-pkg/dist/index.mjs'), format: 'module' });
  t.deepEqual(resolveModule('cond-pkg', esmParent, 'require'),
    { url: at('node_modules/cond-pkg/dist/index.cjs'), format: 'commonjs' });
  // "default" is listed before "import", so it wins.
  t.is(importOf('cond-pkg/ordered'), at('node_modules/cond-pkg/dist/default.js'));
  // Nested conditions: node → import / require.
  t.is(importOf('cond-pkg/nested'), at('node_modules/cond-pkg/dist/nested.mjs'));
  t.is(requireOf('cond-pkg/nested'), at('node_modules/cond-pkg/dist/nested.cjs'));
  // "import": null excludes the subpath for import; require falls through to "default".
  t.throws(() => importOf('cond-pkg/cjs-only'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  t.is(requireOf('cond-pkg/cjs-only'), at('node_modules/cond-pkg/dist/index.cjs'));
  // Arrays are fallbacks: the invalid "../outside.js" is skipped.
  t.is(importOf('cond-pkg/fallback'), at('node_modules/cond-pkg/dist/index.mjs'));
});

test('exports: subpath patterns, the most specific first; unexported and escaping subpaths fail', (t) => {
  t.is(importOf('cond-pkg/features/alpha'), at('node_modules/cond-pkg/dist/features/alpha.mjs'));
  t.is(importOf('cond-pkg/features/special/beta'), at('node_modules/cond-pkg/dist/special/beta.mjs'));
  t.throws(() => importOf('cond-pkg/features/internal/x'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  const hidden = t.throws(() => importOf('cond-pkg/hidden'), { instanceOf: ModuleNotFoundError });
  t.is(hidden.message, `Cannot find module 'cond-pkg/hidden' imported from ${fileURLToPath(esmParent)}: `
    + `subpath './hidden' is not exported by ${fileURLToPath(at('node_modules/cond-pkg/package.json'))}`);
  t.throws(() => importOf('cond-pkg/dist/hidden.js'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  t.throws(() => importOf('cond-pkg/package.json'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  t.throws(() => importOf('cond-pkg/features/../dist/index'), { instanceOf: ModuleNotFoundError, message: /not a valid subpath/ });
  t.throws(() => requireOf('cond-pkg/hidden'), { instanceOf: ModuleNotFoundError, message: /exports/ });
});

test('packages: scoped, main only, main directory, index only, nearest node_modules first', (t) => {
  t.deepEqual(resolveModule('@scope/pkg', esmParent, 'import'),
    { url: at('node_modules/@scope/pkg/entry.js'), format: 'commonjs' });
  t.is(importOf('@scope/pkg/sub'), at('node_modules/@scope/pkg/lib/sub.js'));
  t.throws(() => importOf('@scope/pkg/lib/sub.js'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  t.is(importOf('main-only'), at('node_modules/main-only/lib/start.js'));
  t.is(importOf('main-dir'), at('node_modules/main-dir/lib/index.js'));
  t.is(importOf('index-only'), at('node_modules/index-only/index.js'));
  t.is(importOf('index-only/other.js'), at('node_modules/index-only/other.js'));
  t.throws(() => importOf('index-only/other'), { instanceOf: ModuleNotFoundError });
  // esm/node_modules/near-pkg (no package.json) shadows the root one for files in esm/.
  t.is(importOf('near-pkg'), at('esm/node_modules/near-pkg/index.js'));
  t.is(importOf('near-pkg', cjsParent), at('node_modules/near-pkg/index.js'));
  t.throws(() => importOf('absent-pkg'), { instanceOf: ModuleNotFoundError, message: /'absent-pkg'/ });
  t.throws(() => importOf('@scope'), { instanceOf: ModuleNotFoundError, message: /not a valid package specifier/ });
});

test('import resolution agrees with Node\'s own import.meta.resolve', (t) => {
  const parent = at('esm/node-resolve.mjs');
  const specifiers = [
    'cond-pkg', 'cond-pkg/ordered', 'cond-pkg/nested', 'cond-pkg/fallback', 'cond-pkg/features/alpha',
    'cond-pkg/features/special/beta', '@scope/pkg', '@scope/pkg/sub', 'main-only', 'main-dir', 'index-only',
    'index-only/other.js', 'near-pkg', './plain.js', '../cjs/thing.cjs', 'node:fs',
  ];
  for (const specifier of specifiers) {
    t.is(resolveModule(specifier, parent, 'import').url, resolveWithNode(specifier), specifier);
  }
  // Node's codes differ (the child only needs "not found"), but Node fails exactly where we do.
  // (import.meta.resolve does not check that files exist, so only resolution failures are compared.)
  const failures: Array<[string, string]> = [
    ['cond-pkg/hidden', 'ERR_PACKAGE_PATH_NOT_EXPORTED'],
    ['cond-pkg/cjs-only', 'ERR_PACKAGE_PATH_NOT_EXPORTED'],
    ['cond-pkg/features/internal/x', 'ERR_PACKAGE_PATH_NOT_EXPORTED'],
    ['cond-pkg/features/../dist/index', 'ERR_INVALID_MODULE_SPECIFIER'],
    ['@scope', 'ERR_INVALID_MODULE_SPECIFIER'],
    ['absent-pkg', 'ERR_MODULE_NOT_FOUND'],
  ];
  for (const [specifier, code] of failures) {
    // any: errors thrown by Node's loader may come from another realm.
    t.throws(() => resolveWithNode(specifier), { any: true, code }, `node: ${specifier}`);
    t.throws(() => resolveModule(specifier, parent, 'import'), { instanceOf: ModuleNotFoundError }, specifier);
  }
});

test('resolution follows symlinks to the real file, as Node does', (t) => {
  const dir = scratch(t);
  writeFileSync(join(dir, 'real.js'), 'module.exports = 1;\n');
  symlinkSync(join(dir, 'real.js'), join(dir, 'link.js'));
  const parent = pathToFileURL(join(dir, 'parent.js')).href;
  const real = pathToFileURL(realpathSync(join(dir, 'real.js'))).href;
  t.is(resolveModule('./link.js', parent, 'import').url, real);
  t.is(resolveModule('./link', parent, 'require').url, real);
});

test('formatOf: by extension, else by the nearest package.json "type"', (t) => {
  const cases: Array<[string, ModuleFormat]> = [
    ['esm/sub.mts', 'module'],
    ['esm/legacy.cts', 'commonjs'],
    ['cjs/thing.cjs', 'commonjs'],
    ['node_modules/cond-pkg/dist/index.mjs', 'module'],
    ['esm/data.json', 'json'],
    ['esm/plain.js', 'module'], // esm/package.json: "type": "module"
    ['esm/helper.ts', 'module'],
    ['cjs/util.js', 'commonjs'], // the fixtures' package.json: "type": "commonjs"
    ['cjs/plain.ts', 'commonjs'],
    ['node_modules/cond-pkg/dist/default.js', 'commonjs'], // a package.json without "type"
    // In node_modules without a package.json: the scope lookup stops at node_modules, so not esm/'s "module".
    ['esm/node_modules/near-pkg/index.js', 'commonjs'],
  ];
  for (const [rel, format] of cases) t.is(formatOf(at(rel)), format, rel);
  t.is(formatOf(fileURLToPath(at('esm/plain.js'))), 'module');
  t.is(formatOf(`${at('esm/plain.js')}?v=1`), 'module');
  t.is(formatOf('node:fs'), 'builtin');
});

test('loadModule serves JavaScript and JSON as read', async (t) => {
  for (const [rel, format] of [['esm/data.json', 'json'], ['cjs/thing.cjs', 'commonjs'], ['esm/plain.js', 'module']] as const) {
    const loaded = await loadModule(at(rel));
    t.deepEqual(loaded, { url: at(rel), format, source: new Uint8Array(readFileSync(new URL(rel, fixtures))) }, rel);
  }
  const json = await loadModule(at('esm/data.json'));
  t.deepEqual(JSON.parse(text(json.source)), { name: 'esm-data' });
});

test('loadModule transpiles TypeScript in the format of its scope', async (t) => {
  const calls: Array<[string, string]> = [];
  const transpile: Transpile = async (source, url, format) => {
    calls.push([url, format]);
    const out = await transform(source, { loader: 'ts', format: format === 'module' ? 'esm' : 'cjs', sourcefile: url });
    return out.code;
  };
  const helper = await loadModule(at('esm/helper.ts'), transpile);
  t.is(helper.format, 'module');
  t.false(text(helper.source).includes(': string'));
  const mod = await import(`data:text/javascript,${encodeURIComponent(text(helper.source))}`) as { helper: string };
  t.is(mod.helper, 'helper');

  const legacy = await loadModule(at('esm/legacy.cts'), transpile);
  t.is(legacy.format, 'commonjs');
  t.regex(text(legacy.source), /module\.exports/);
  const plain = await loadModule(at('cjs/plain.ts'), transpile);
  t.is(plain.format, 'commonjs');
  const sub = await loadModule(at('esm/sub.mts'), transpile);
  t.is(sub.format, 'module');
  t.deepEqual(calls, [
    [at('esm/helper.ts'), 'module'], [at('esm/legacy.cts'), 'commonjs'],
    [at('cjs/plain.ts'), 'commonjs'], [at('esm/sub.mts'), 'module'],
  ]);

  await t.throwsAsync(loadModule(at('esm/helper.ts')), { message: /TypeScript sources need a transpiler/ });
});

test('loadModule refuses what is not a module source, and reports missing files', async (t) => {
  const refused = async (url: string, why: RegExp): Promise<void> => {
    const e = await t.throwsAsync(loadModule(url), { instanceOf: ModuleRefusedError, message: why }, url);
    t.is(e?.url, url);
    t.is(e?.code, 'ERR_MODULE_REFUSED');
  };
  await refused(at('esm/dir/'), /no module source extension/);
  await refused(at('esm/dir'), /no module source extension/);
  await refused(at('esm/run.sh'), /\.sh files are not module sources/);
  await refused(at('esm/addon.node'), /\.node files are not module sources/);
  await refused('file:///etc/shadow', /no module source extension/);
  await refused('node:fs', /only file: URLs/);
  await refused('https://example.com/x.js', /only file: URLs/);

  const dir = scratch(t);
  writeFileSync(join(dir, 'script.sh'), 'echo hi\n');
  symlinkSync(join(dir, 'script.sh'), join(dir, 'disguised.js'));
  await refused(pathToFileURL(join(dir, 'disguised.js')).href, /is a link to .*script\.sh/);
  mkdirSync(join(dir, 'folder.js'));
  await refused(pathToFileURL(join(dir, 'folder.js')).href, /not a regular file/);

  const missing = await t.throwsAsync(loadModule(at('esm/missing.js')), { instanceOf: ModuleNotFoundError });
  t.is(missing?.specifier, at('esm/missing.js'));
});
