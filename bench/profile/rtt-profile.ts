/**
 * CPU profiles of a round trip on all four threads: `npx tsx bench/profile/rtt-profile.ts [--calls 10000] [--dir DIR]`
 * (`--floor`: the design floor's round trip instead, profiled alike; `--report DIR` reads a run's profiles again)
 *
 * Re-runs itself as the master under `node --cpu-prof` with preload.cjs (so
 * its broker worker, started with execArgv: [], is profiled too), starts a
 * local child whose interpreter is `node --require preload.cjs --cpu-prof`
 * (its broker likewise), times `--calls` sequential `ctx.call(() => null)`,
 * shuts down (profiles are written as each thread ends) and then reads the
 * four profiles: self time per function inside the loop's window only (V8's
 * profile clock and process.hrtime are both CLOCK_MONOTONIC), µs per round
 * trip, top entries per thread, and the share of (idle), (program) and
 * (garbage collector). Sampling at 100 µs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '../../src/index.js';
import { startDesignFloor } from '../floor/floor.js';
import { noop, numberArg, stringArg as arg } from '../lib/script-args.js';

const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const CALLS = numberArg('--calls', 10_000);
const FLOOR = process.argv.includes('--floor');

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** What a sample's function is: the native hand-offs, Node's own JavaScript, the runtime's (or the floor's), V8's own. */
const KINDS = ['postMessage (native)', 'socket write (native writeBuffer)', 'other native', "Node's JS (node:*)", 'runtime / floor JS', 'GC', '(program)'] as const;
function kindOf(f: ProfileNode['callFrame']): (typeof KINDS)[number] | undefined {
  if (f.functionName === '(idle)') return undefined;
  if (f.functionName === '(garbage collector)') return 'GC';
  if (f.functionName === '(program)' || f.functionName === '(root)') return '(program)';
  if (!f.url && f.functionName === 'postMessage') return 'postMessage (native)';
  if (!f.url && f.functionName === 'writeBuffer') return 'socket write (native writeBuffer)';
  // No url and no line: a native function; no url but a line: code from new Function (the child's main bundle).
  if (!f.url) return f.lineNumber < 0 ? 'other native' : 'runtime / floor JS';
  if (f.url.startsWith('node:')) return "Node's JS (node:*)";
  return 'runtime / floor JS';
}

/** Self time (µs) per function within [from, to] (µs, CLOCK_MONOTONIC), and per kind. */
function selfTimes(p: Profile, from: number, to: number): { total: number; by: Map<string, number>; kinds: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const by = new Map<string, number>();
  const kinds = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    // A sample stands for the interval up to the next one.
    const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : 0;
    if (t < from || t > to) continue;
    const n = byId.get(p.samples[i]!)!;
    const f = n.callFrame;
    const where = f.url ? ` ${basename(f.url).replace(/^.*:/, '')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where}`;
    by.set(key, (by.get(key) ?? 0) + dt);
    const kind = kindOf(f);
    if (kind) kinds.set(kind, (kinds.get(kind) ?? 0) + dt);
    total += dt;
  }
  return { total, by, kinds };
}

async function child(dir: string): Promise<void> {
  const childDir = join(dir, 'child');
  mkdirSync(childDir, { recursive: true });
  process.env.MITO_PROF_DIR = childDir; // read by preload.cjs in the child (its environment is ours)
  const profArgs = ['--require', preload, '--cpu-prof', `--cpu-prof-dir=${childDir}`, '--cpu-prof-interval=100'];
  let once: () => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (FLOOR) {
    // The design floor's child is `node design-floor.cjs child`: the same flags (--cpu-prof is refused in NODE_OPTIONS).
    process.env.DESIGN_FLOOR_NODE_ARGS = profArgs.join(' ');
    const floor = await startDesignFloor('port');
    once = () => floor.ping();
    close = () => floor.close();
  } else {
    const router = new Router();
    const ctx = await router.local({ nodePath: [process.execPath, ...profArgs] });
    once = () => ctx.call(noop);
    close = () => router.shutdown();
  }
  for (let i = 0; i < 500; i++) await once();
  const from = Number(process.hrtime.bigint() / 1000n);
  const t = performance.now();
  for (let i = 0; i < CALLS; i++) await once();
  const us = ((performance.now() - t) * 1000) / CALLS;
  const to = Number(process.hrtime.bigint() / 1000n);
  writeFileSync(join(dir, 'window.json'), JSON.stringify({ from, to, us, calls: CALLS, floor: FLOOR }));
  await close();
  // The floor's child ends when its stdin does; give it a moment to write its profiles.
  if (FLOOR) await new Promise((r) => setTimeout(r, 500));
}

function report(dir: string): void {
  const w = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as { from: number; to: number; us: number; calls: number; floor: boolean };
  const files = ['master', 'child'].flatMap((d) => readdirSync(join(dir, d)).map((f) => join(dir, d, f))).filter((f) => f.endsWith('.cpuprofile'));
  const summary: string[] = ['', `| thread | busy | ${KINDS.join(' | ')} |`, `|---|---|${KINDS.map(() => '---|').join('')}`];
  const out: string[] = [`${w.calls} sequential ${w.floor ? 'round trips of the design floor' : 'calls'}, ${w.us.toFixed(0)} µs a round trip while profiled (sampling every 100 µs adds to it). Self time inside the loop, µs per round trip:`];
  for (const file of files) {
    // CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile: threadId 0 is the main thread.
    const [, , , , tid] = basename(file).split('.');
    const proc = basename(join(file, '..'));
    const thread = tid === '0' ? 'main' : `worker ${tid}`;
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const { total, by, kinds } = selfTimes(p, w.from, w.to);
    if (total === 0) continue;
    const per = (x: number): string => (x / w.calls).toFixed(1);
    const idle = by.get('(idle)') ?? 0;
    // Threads with next to nothing in the window (tsx's, an idle floor's) stay out of the summary.
    if ((total - idle) / w.calls >= 2) summary.push(`| ${proc} ${thread} | ${per(total - idle)} | ${KINDS.map((k) => per(kinds.get(k) ?? 0)).join(' | ')} |`);
    const top = [...by].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 12);
    out.push('', `### ${proc} ${thread}: busy ${per(total - idle)} µs a round trip (${(((total - idle) / total) * 100).toFixed(0)} % of the window), idle ${per(idle)}`, '',
      '| function | µs / round trip | % of busy |', '|---|---|---|',
      ...top.map(([k, v]) => `| ${k.replace(/\|/g, '/')} | ${per(v)} | ${((v / (total - idle)) * 100).toFixed(1)} |`));
  }
  out.splice(1, 0, ...summary, '', 'Per thread, the top entries:');
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv.includes('--report')) {
  report(arg('--report', ''));
} else if (process.argv.includes('--as-master')) {
  await child(arg('--dir', ''));
  process.exit(0);
} else {
  const dir = arg('--dir', mkdtempSync(join(os.tmpdir(), 'mitogen-rtt-prof-')));
  mkdirSync(join(dir, 'master'), { recursive: true });
  const r = spawnSync(process.execPath, ['--require', preload, '--cpu-prof', `--cpu-prof-dir=${join(dir, 'master')}`, '--cpu-prof-interval=100', '--import', 'tsx',
    fileURLToPath(import.meta.url), '--as-master', '--dir', dir, '--calls', String(CALLS), ...(FLOOR ? ['--floor'] : [])],
  { stdio: 'inherit', env: { ...process.env, MITO_PROF_DIR: join(dir, 'master') }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`the profiled master exited with ${r.status ?? r.signal}`);
  process.stderr.write(`profiles in ${dir}\n`);
  report(dir);
}
