/**
 * `npm run soak`: the long forms of what `npm test` checks quickly.
 *
 *   fuzz    the frame reader and the router fuzzers with MT_FUZZ_RUNS cases (default 1,000,000:
 *           2.1 million frame cases, about 20,000 router cases over a real pipe)
 *   cycles  MT_SOAK_CYCLES start/call/shutdown cycles (default 1,000): growth of fds, threads,
 *           child processes and heap
 *   load    MT_SOAK_ROUNDS rounds (default 20) of 10,000 concurrent calls over 10 fresh
 *           children, 5% of the children SIGKILLed mid-flight
 *
 * MT_SOAK_PHASES picks phases (e.g. "cycles,load"); MT_SOAK_SECONDS bounds each phase
 * (default 1800). Every loop stops at its count or its time bound, whichever comes first.
 * Exits non-zero if any phase fails.
 */
import { runCycles } from './soak/cycles.js';
import { runFuzz } from './soak/fuzz.js';
import { runLoad } from './soak/load.js';

const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${v}`);
  return n;
};

const phases = new Set((process.env.MT_SOAK_PHASES ?? 'fuzz,cycles,load').split(',').map((s) => s.trim()));
const seconds = num('MT_SOAK_SECONDS', 1800);
const results: string[] = [];
let failed = false;
const t0 = performance.now();

function report(name: string, ok: boolean, line: string): void {
  failed ||= !ok;
  const text = `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(7)} ${line}`;
  results.push(text);
  console.log(text);
}

if (phases.has('fuzz')) {
  const runs = num('MT_FUZZ_RUNS', 1_000_000);
  console.log(`fuzz: MT_FUZZ_RUNS=${runs} (bound ${seconds} s)`);
  const f = await runFuzz(runs, seconds);
  if (!f.ok) console.log(f.output.split('\n').slice(-60).join('\n'));
  report('fuzz', f.ok, `${f.frameCases.toLocaleString('en')} frame cases, ${f.routerCases.toLocaleString('en')} router cases (${f.routerFrames.toLocaleString('en')} hostile frames over a pipe) in ${f.seconds.toFixed(0)} s`);
}

if (phases.has('cycles')) {
  const count = num('MT_SOAK_CYCLES', 1000);
  console.log(`cycles: ${count} start/call/shutdown cycles (bound ${seconds} s)`);
  const c = await runCycles(count, seconds);
  report('cycles', c.ok, `${c.cycles} cycles, ${c.calls} calls in ${c.seconds.toFixed(0)} s (${(c.seconds * 1000 / Math.max(1, c.cycles)).toFixed(0)} ms a cycle); ${c.growth}; ${c.leftAlive} child processes left`);
}

if (phases.has('load')) {
  const rounds = num('MT_SOAK_ROUNDS', 20);
  console.log(`load: ${rounds} rounds of 10,000 concurrent calls over 10 children, 5% of them SIGKILLed (bound ${seconds} s)`);
  const l = await runLoad(rounds, 10_000, seconds);
  for (const p of l.problems) console.log(`  problem: ${p}`);
  report('load', l.ok, `${l.calls.toLocaleString('en')} calls over ${l.children} children in ${l.rounds} rounds, ${l.killed} children SIGKILLed, ${l.failedWithChannelError} calls failed with ChannelError, ${l.problems.length} problems, in ${l.seconds.toFixed(0)} s`);
}

console.log(`\nsoak summary (${((performance.now() - t0) / 1000).toFixed(0)} s):\n${results.join('\n')}`);
process.exit(failed ? 1 : 0);
