/**
 * The import graph of the shipped and master code (src/, actors/,
 * transports/) read from the sources — type-only imports included, as a
 * reader follows them — has no cycles.
 */
import test from 'ava';
import { importGraph, ROOTS } from './source-graph.js';

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const graph = importGraph();

test('the graph is read: every root has files and imports are followed', (t) => {
  for (const r of ROOTS) t.true([...graph.keys()].some((f) => f.startsWith(`${r}/`)), r);
  t.true(graph.get('src/runtime/broker.ts')!.includes('src/threads/thread-protocol.ts'));
});

test('no import cycle', (t) => {
  t.deepEqual(cycles(graph), [], 'the files of each cycle');
});
