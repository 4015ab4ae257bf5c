import test from 'ava';
import { fileURLToPath } from 'node:url';
import { formatOf, loadModule, ModuleNotFoundError, ModuleRefusedError, resolveModule } from '../src/module-resolver.js';

const base = new URL('./fixtures/resolver/', import.meta.url);
const parent = new URL('src/parent.js', base).href;
const at = (rel: string): string => new URL(rel, base).href;

test('builtins resolve to node: URLs', (t) => {
  t.deepEqual(resolveModule('fs', parent, 'import'), { url: 'node:fs', format: 'builtin' });
  t.deepEqual(resolveModule('node:fs/promises', parent, 'require'), { url: 'node:fs/promises', format: 'builtin' });
});

test('ESM relative imports are exact, with .js naming a .ts source', (t) => {
  t.is(resolveModule('./data.json', parent, 'import').url, at('src/data.json'));
  t.deepEqual(resolveModule('./mod.js', parent, 'import'), { url: at('src/mod.ts'), format: 'module' });
  const e = t.throws(() => resolveModule('./nope.js', parent, 'import'), { instanceOf: ModuleNotFoundError });
  t.regex(e!.message, /'\.\/nope\.js' imported from .*parent\.js/);
  t.throws(() => resolveModule('./', parent, 'import'), { instanceOf: ModuleNotFoundError, message: /directory/ });
});

test('package exports pick the import or require condition, patterns and refusals', (t) => {
  t.is(resolveModule('cond-pkg', parent, 'import').url, at('node_modules/cond-pkg/dist/index.mjs'));
  t.is(resolveModule('cond-pkg', parent, 'require').url, at('node_modules/cond-pkg/dist/index.cjs'));
  t.is(resolveModule('cond-pkg/features/alpha', parent, 'import').url, at('node_modules/cond-pkg/dist/features/alpha.mjs'));
  t.throws(() => resolveModule('cond-pkg/hidden', parent, 'import'), { instanceOf: ModuleNotFoundError, message: /not exported/ });
  t.is(resolveModule('@scope/pkg', parent, 'import').url, at('node_modules/@scope/pkg/entry.js'));
  t.is(resolveModule('main-only', parent, 'import').url, at('node_modules/main-only/lib/start.js'));
  t.throws(() => resolveModule('absent-pkg', parent, 'import'), { instanceOf: ModuleNotFoundError, message: /absent-pkg/ });
});

test('formats follow extensions and the nearest package.json type', (t) => {
  t.is(formatOf(at('x.mjs')), 'module');
  t.is(formatOf(at('x.cjs')), 'commonjs');
  t.is(formatOf(at('x.json')), 'json');
  // test/fixtures/resolver has no package.json: the repository's "type": "module" applies.
  t.is(formatOf(at('src/parent.js')), 'module');
  t.is(formatOf(new URL('./fixtures/forwarding/uses-pkg.js', import.meta.url).href), 'commonjs');
});

test('loadModule serves sources, transpiles TypeScript and refuses everything else', async (t) => {
  const json = await loadModule(at('src/data.json'));
  t.is(json.format, 'json');
  t.deepEqual(JSON.parse(Buffer.from(json.source).toString()), { k: 1 });
  const ts = await loadModule(at('src/mod.ts'), async (src) => src.replace(': number', ''));
  t.is(Buffer.from(ts.source).toString().trim(), 'export const x = 1;');
  await t.throwsAsync(loadModule(at('src/mod.ts')), { message: /transpiler/ });
  await t.throwsAsync(loadModule(at('src/run.sh')), { instanceOf: ModuleRefusedError });
  await t.throwsAsync(loadModule(at('src/')), { instanceOf: ModuleRefusedError });
  await t.throwsAsync(loadModule(at('src/missing.js')), { instanceOf: ModuleNotFoundError });
  t.truthy(fileURLToPath(base));
});
