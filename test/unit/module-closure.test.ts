/**
 * The master gathers a module's closure before it answers: with the graph
 * scanned up front, the modules are loaded (read, TypeScript transpiled) in
 * parallel batches, not one importer at a time. Real files, the master's own
 * module source (esbuild, cjs-module-lexer); the calls to it are counted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { ModuleActor } from '../../actors/module-actor.js';
import type { ModuleSource } from '../../actors/module-actor.js';
import { unpackPreload } from '../../src/modules/module-wire.js';
import { masterModuleSource } from '../../src/master/module-source.js';

const require = createRequire(import.meta.url);

function chain(kind: 'ts' | 'cjs', n: number): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), `mt-closure-${kind}-`));
  if (kind === 'ts') writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    writeFileSync(join(dir, `m${i}.${kind}`), kind === 'ts'
      ? (last ? 'export const value: number = 1;\n' : `import { value as next } from './m${i + 1}.js';\nexport const value: number = next + 1;\n`)
      : (last ? 'exports.value = 1;\n' : `exports.value = require('./m${i + 1}.cjs').value + 1;\n`));
  }
  return { dir, entry: join(dir, `m0.${kind}`) };
}

for (const kind of ['ts', 'cjs'] as const) {
  test(`a 40-module ${kind} chain is loaded in two batches (the root, then the rest at once) and preloaded whole`, async (t) => {
    const { dir, entry } = chain(kind, 40);
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const master = masterModuleSource({
      esbuildPath: require.resolve('esbuild'), moduleBase: import.meta.url, policy: () => ({ allow: [], deny: [] }),
    });
    const batches: number[] = [];
    const counted: ModuleSource = { ...master, entries: (urls, into) => { batches.push(urls.length); return master.entries(urls, into); } };
    const modules = new ModuleActor(counted);
    const reply = await modules.serve({ kind: kind === 'ts' ? 'import' : 'require', spec: entry, parent: pathToFileURL(dir).href + '/' }, { key: {}, remote: true });
    t.true(reply.ok, JSON.stringify(reply).slice(0, 300));
    t.deepEqual(batches, [1, 39]);
    const preload = unpackPreload(reply.ok ? reply.value.preload : undefined);
    t.deepEqual(preload.map((e) => e.url).sort(), Array.from({ length: 39 }, (_, i) => pathToFileURL(join(dir, `m${i + 1}.${kind}`)).href).sort());
    if (kind === 'ts') t.false(preload.some((e) => Buffer.from(e.source).toString().includes(': number')), 'TypeScript arrives transpiled');
  });
}
