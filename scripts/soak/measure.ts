/** What the soak measures about this process: open fds, threads, direct child processes, heap. */
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Footprint {
  fds: number;
  threads: number;
  children: number;
  heapMiB: number;
  rssMiB: number;
}

// `tsx scripts/soak.ts` has no --expose-gc: switch it on here, so heap figures are what is kept.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Processes whose parent is this one (from /proc/<pid>/stat). */
export function childPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

export function footprint(): Footprint {
  gc();
  const mem = process.memoryUsage();
  return {
    fds: readdirSync('/proc/self/fd').length,
    threads: readdirSync('/proc/self/task').length,
    children: childPids().length,
    heapMiB: mem.heapUsed / 2 ** 20,
    rssMiB: mem.rss / 2 ** 20,
  };
}

/** "fds 23 -> 24 (+1)", one line per figure. */
export function growth(before: Footprint, after: Footprint): string {
  const f = (k: keyof Footprint): string => {
    const d = after[k] - before[k];
    const n = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
    return `${k} ${n(before[k])} -> ${n(after[k])} (${d >= 0 ? '+' : ''}${n(d)})`;
  };
  return (['fds', 'threads', 'children', 'heapMiB', 'rssMiB'] as const).map(f).join(', ');
}
