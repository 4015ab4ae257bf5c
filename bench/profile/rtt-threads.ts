/**
 * Where a round trip's CPU goes, thread by thread: `npx tsx bench/profile/rtt-threads.ts [--reps 3] [--calls 10000] [--bytes N]`
 *
 * With `--bytes N` each call returns the same N-byte block (made once in the
 * child) and the floor is the one-way pipe instead (floor/echo-child.cjs
 * source: a plain node child answering each request with one 1 MiB frame on
 * its stdout, counted, not copied, by the master's main thread).
 *
 * Each repetition runs `--calls` sequential `ctx.call(() => null)` to a local
 * child, then as many round trips of the design floor (floor/design-floor.cjs,
 * the Worker's own port), and reads every thread's counters from
 * /proc/<pid>/task/<tid>/ before and after each loop: `schedstat` (ns on a
 * CPU, ns runnable but waiting for one) and `stat` (user and kernel ticks).
 * Threads are all named "node": the main thread is the one whose tid is the
 * pid, the worker the busiest other thread during the loop, and the rest
 * (V8's platform threads: GC, compilation; libuv's pool) is summed. Prints
 * µs per round trip per thread, medians over the repetitions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Router } from '../../src/index.js';
import { PipeChild, startDesignFloor } from '../floor/floor.js';
import { noop, numberArg as arg } from '../lib/script-args.js';

const REPS = arg('--reps', 3);
const CALLS = arg('--calls', 10_000);
const BYTES = arg('--bytes', 0);
const TICK_NS = 1e7; // USER_HZ = 100

interface Counters { run: number; wait: number; user: number; sys: number }
type Snapshot = Map<string, Counters>; // "pid/tid"

function snapshot(pids: number[]): Snapshot {
  const out: Snapshot = new Map();
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
        // Fields after the command (which may hold spaces) in parentheses: utime is the 14th, stime the 15th.
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, { run: run!, wait: wait!, user: Number(f[11]) * TICK_NS, sys: Number(f[12]) * TICK_NS });
      } catch { /* the thread ended */ }
    }
  }
  return out;
}

/** Per-thread deltas, grouped as main / worker / rest for each process, µs per call. */
function perCall(before: Snapshot, after: Snapshot, pids: Record<string, number>, calls: number): Record<string, Counters> {
  const delta = (k: string): Counters => {
    const a = after.get(k)!;
    const b = before.get(k) ?? { run: 0, wait: 0, user: 0, sys: 0 };
    return { run: a.run - b.run, wait: a.wait - b.wait, user: a.user - b.user, sys: a.sys - b.sys };
  };
  const out: Record<string, Counters> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const threads = [...after.keys()].filter((k) => k.startsWith(`${pid}/`)).map((k) => ({ tid: Number(k.split('/')[1]), d: delta(k) }));
    const main = threads.find((t) => t.tid === pid)!;
    const others = threads.filter((t) => t.tid !== pid).sort((x, y) => y.d.run - x.d.run);
    const worker = others[0]!;
    const rest = others.slice(1).reduce((s, t) => ({ run: s.run + t.d.run, wait: s.wait + t.d.wait, user: s.user + t.d.user, sys: s.sys + t.d.sys }), { run: 0, wait: 0, user: 0, sys: 0 });
    const us = (c: Counters): Counters => ({ run: c.run / calls / 1000, wait: c.wait / calls / 1000, user: c.user / calls / 1000, sys: c.sys / calls / 1000 });
    out[`${name} main`] = us(main.d);
    out[`${name} worker`] = us(worker.d);
    out[`${name} rest`] = us(rest);
  }
  return out;
}

/** The child a design floor spawned: our child whose command line names design-floor.cjs. */
function designChildPid(): number {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('design-floor.cjs')) return Number(d);
    } catch { /* gone */ }
  }
  throw new Error('design floor child not found');
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

async function main(): Promise<void> {
  const router = new Router();
  const ctx = await router.local();
  const childPid = await ctx.call(() => process.pid);
  // Made once in the child; every later call returns the same buffer.
  const block = (n: number): Uint8Array => {
    const g = globalThis as unknown as { benchBlock?: Uint8Array };
    if (g.benchBlock?.length !== n) g.benchBlock = (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);
    return g.benchBlock;
  };
  const design = BYTES ? undefined : await startDesignFloor('port');
  const pipe = BYTES ? await PipeChild.start('source') : undefined;
  const floorChild = pipe ? pipe.pid : designChildPid();
  const call = BYTES ? () => ctx.call(block, BYTES) : () => ctx.call(noop);
  const ping = pipe ? () => pipe.pull(1) : () => design!.ping();
  for (let i = 0; i < (BYTES ? 50 : 500); i++) { await call(); await ping(); }
  const rows: Record<'ts' | 'floor', Record<string, Counters>[]> = { ts: [], floor: [] };
  const wall: Record<'ts' | 'floor', number[]> = { ts: [], floor: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const side of ['ts', 'floor'] as const) {
      const pids = side === 'ts' ? { master: process.pid, child: childPid } : { master: process.pid, child: floorChild };
      const once = side === 'ts' ? call : ping;
      const before = snapshot(Object.values(pids));
      const t = performance.now();
      for (let i = 0; i < CALLS; i++) await once();
      wall[side].push(((performance.now() - t) * 1000) / CALLS);
      rows[side].push(perCall(before, snapshot(Object.values(pids)), pids, CALLS));
    }
    process.stderr.write(`rep ${rep + 1}/${REPS}: mitogen-ts ${wall.ts.at(-1)!.toFixed(0)} µs, design floor ${wall.floor.at(-1)!.toFixed(0)} µs a round trip\n`);
  }
  await design?.close();
  pipe?.close();
  await router.shutdown();

  const f = (x: number): string => x.toFixed(1);
  const names = Object.keys(rows.ts[0]!);
  const med = (side: 'ts' | 'floor', n: string, k: keyof Counters): number => median(rows[side].map((r) => r[n]![k]));
  const out = [
    `${REPS} repetitions of ${CALLS} sequential round trips on each side, alternating; medians. Wall: mitogen-ts ${f(median(wall.ts))} µs, ${BYTES ? 'the one-way pipe' : 'the design floor'} ${f(median(wall.floor))} µs a round trip (${(median(wall.ts) / median(wall.floor)).toFixed(2)}x).`,
    'CPU µs per round trip (schedstat: on a CPU; user/kernel from stat, 10 ms ticks), and µs runnable but waiting for a CPU:',
    '',
    '| thread | mitogen-ts CPU | user | kernel | waiting | design floor CPU | user | kernel | waiting | CPU − floor |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...names.map((n) => `| ${n} | ${f(med('ts', n, 'run'))} | ${f(med('ts', n, 'user'))} | ${f(med('ts', n, 'sys'))} | ${f(med('ts', n, 'wait'))} | ${f(med('floor', n, 'run'))} | ${f(med('floor', n, 'user'))} | ${f(med('floor', n, 'sys'))} | ${f(med('floor', n, 'wait'))} | ${f(med('ts', n, 'run') - med('floor', n, 'run'))} |`),
    `| all | ${f(median(rows.ts.map((r) => names.reduce((s, n) => s + r[n]!.run, 0))))} | | | ${f(median(rows.ts.map((r) => names.reduce((s, n) => s + r[n]!.wait, 0))))} | ${f(median(rows.floor.map((r) => names.reduce((s, n) => s + r[n]!.run, 0))))} | | | ${f(median(rows.floor.map((r) => names.reduce((s, n) => s + r[n]!.wait, 0))))} | |`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
process.exit(0);
