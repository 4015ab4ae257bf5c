/**
 * What ships to a child and what stays in the master, read from the bundles
 * themselves (esbuild's metafile of each) and from the sources' imports: no
 * file of src/master/ (the resolver, the transpiler, the module policy's
 * checks, the payload build, the master's broker setup) rides in a bundle a
 * child is sent, and no file a child runs imports one, not even for a type.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { bundleInputs, RUNTIME_ENTRIES } from '../../src/master/runtime-payload.js';

const inputs = bundleInputs();
const shipped = ['main', 'broker', 'hooks'] as const;
const own = (files: string[]): string[] => files.filter((f) => !f.includes('node_modules/'));
const masterOnly = (f: string): boolean => f.startsWith('src/master/') || /^src\/cli[/.]/.test(f);

for (const b of shipped) {
  test(`the ${b} bundle a child is sent holds nothing of the master's`, (t) => {
    const files = own(inputs[b]);
    t.true(files.length > 0, 'the metafile lists the bundle\'s files');
    t.deepEqual(files.filter(masterOnly), []);
  });
}

test('the master\'s broker is the child\'s broker plus the module source: the resolver is in it, and only there', (t) => {
  const master = own(inputs.masterBroker);
  t.true(master.includes('src/master/module-resolver.ts'));
  t.true(master.includes('src/master/module-source.ts'));
  t.true(master.includes('actors/broker-core.ts'));
  // Each has an entry of its own (a few lines starting the same BrokerCore): the rest is shared.
  const child = own(inputs.broker).filter((f) => f !== RUNTIME_ENTRIES.broker);
  t.deepEqual(child.filter((f) => !master.includes(f)), [], 'everything the child\'s broker runs, the master\'s runs too');
});

test('no file a child runs imports src/master/, type-only imports included', (t) => {
  const files = new Set(shipped.flatMap((b) => own(inputs[b])));
  const bad: string[] = [];
  for (const f of files) {
    if (!f.endsWith('.ts')) continue;
    const { importedFiles } = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    for (const i of importedFiles) if (/(^|\/)master\//.test(i.fileName)) bad.push(`${f} imports ${i.fileName}`);
  }
  t.true(files.size > 20, `${files.size} files shipped`);
  t.deepEqual(bad, []);
});
