/**
 * The tree's rooms and which may reach which, read from the imports (type-only
 * ones included): the wire is the floor every thread stands on; the broker
 * thread (actors/) never reaches the main thread's runtime; a transport is a
 * description of a command, not a caller of the runtime; the package's entry
 * points are what only the user and the master import.
 */
import test from 'ava';
import { importGraph } from './source-graph.js';

const graph = importGraph();
const folderOf = (f: string): string => f.slice(0, f.lastIndexOf('/'));

/** Each import from a file under `from` that lands outside `allowed` (folders, or single files). */
function breaches(from: (f: string) => boolean, allowed: string[]): string[] {
  const ok = (t: string): boolean => allowed.some((a) => (a.endsWith('.ts') ? t === a : t.startsWith(`${a}/`)));
  const out: string[] = [];
  for (const [f, imports] of graph) if (from(f)) for (const t of imports) if (!ok(t)) out.push(`${f} imports ${t}`);
  return out;
}

const under = (...dirs: string[]) => (f: string): boolean => dirs.some((d) => f.startsWith(`${d}/`));
/** The package's entry points (package.json exports and bin): files directly in src/. */
const isEntry = (f: string): boolean => folderOf(f) === 'src';

test('the rooms are there and the graph is read', (t) => {
  for (const d of ['src/wire', 'src/threads', 'src/runtime', 'src/channels', 'src/connect', 'src/modules', 'src/features', 'src/ssh', 'src/cli', 'src/master', 'actors', 'actors/openers', 'transports']) {
    t.true([...graph.keys()].some((f) => folderOf(f) === d), d);
  }
  t.true(graph.get('src/runtime/router.ts')!.includes('src/wire/message.ts'), 'imports are followed');
});

test('src/wire/ (frames, codec, messages, errors) imports nothing but itself', (t) => {
  t.deepEqual(breaches(under('src/wire'), ['src/wire']), []);
});

test('the broker thread (actors/) never reaches the main thread: only the wire, the thread contract, module messages and ssh config', (t) => {
  t.deepEqual(breaches(under('actors'), ['actors', 'src/wire', 'src/threads', 'src/ssh',
    'src/modules/module-wire.ts', 'src/modules/module-entry.ts', 'src/modules/module-table.ts', 'src/modules/module-policy.ts']), []);
});

test('the thread contract (src/threads/) stands on the wire and module messages only', (t) => {
  t.deepEqual(breaches(under('src/threads'), ['src/threads', 'src/wire', 'src/modules/module-wire.ts', 'src/modules/module-entry.ts', 'src/modules/module-policy.ts']), []);
});

test('a transport describes a command: it reaches the wire (the first stage is there), ssh options and shared shapes, never the runtime', (t) => {
  t.deepEqual(breaches(under('transports'), ['transports', 'src/wire', 'src/threads', 'src/ssh']), []);
});

test('no file of the runtime imports an entry point (src/*.ts): entries are for users and the master', (t) => {
  t.deepEqual(breaches((f) => !isEntry(f), [...new Set([...graph.keys()].filter((f) => !isEntry(f)).map(folderOf))]), []);
});

test('the command line is only reached from its entry point (src/cli.ts)', (t) => {
  t.deepEqual([...graph].flatMap(([f, imports]) => (f === 'src/cli.ts' || f.startsWith('src/cli/') ? [] : imports.filter(under('src/cli')).map((i) => `${f} imports ${i}`))), []);
});
