/**
 * Everything in the tree is type-checked, not only what `npm run build`
 * compiles: tsx runs the tests, the bench and the examples without checking
 * them, so a type error there would otherwise pass unseen.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

for (const project of ['tsconfig.json', 'test/tsconfig.json', 'bench/tsconfig.json']) {
  test(`${project}: no type error`, (t) => {
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { encoding: 'utf8', timeout: 110_000 });
    t.is(r.error, undefined);
    t.is(r.stdout.trim(), '', 'tsc reports nothing');
    t.is(r.status, 0);
  });
}
