/**
 * Start, call and shut down, over and over: what each cycle leaves behind
 * (fds, threads, child processes, heap) shows as growth between the first
 * and the last measurement.
 */
import { CallError, Router } from '../../src/index.js';
import { childPids, footprint, growth } from './measure.js';
import type { Footprint } from './measure.js';

export interface CycleFigures {
  ok: boolean;
  cycles: number;
  calls: number;
  seconds: number;
  before: Footprint;
  after: Footprint;
  leftAlive: number;
  growth: string;
}

async function cycle(): Promise<number> {
  const router = new Router();
  try {
    const ctx = await router.local();
    const pid = await ctx.call(() => process.pid);
    try {
      await ctx.call(() => { throw new Error('expected'); });
      throw new Error('a remote throw did not reject');
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
    }
    return pid;
  } finally {
    await router.shutdown();
  }
}

export async function runCycles(count: number, seconds: number): Promise<CycleFigures> {
  for (let i = 0; i < 5; i++) await cycle(); // warm up: lazily made handles and pools
  const before = footprint();
  const deadline = Date.now() + seconds * 1000;
  const t0 = performance.now();
  const pids = new Set<number>();
  let done = 0;
  while (done < count && Date.now() < deadline) {
    pids.add(await cycle());
    done++;
    if (done % 100 === 0) process.stdout.write(`  cycles: ${done}/${count}\n`);
  }
  const after = footprint();
  const alive = new Set(childPids());
  const leftAlive = [...pids].filter((p) => alive.has(p)).length;
  return {
    ok: done === count && leftAlive === 0 && after.fds <= before.fds + 2 && after.threads <= before.threads + 1 && after.heapMiB - before.heapMiB < 32,
    cycles: done,
    calls: done * 2,
    seconds: (performance.now() - t0) / 1000,
    before,
    after,
    leftAlive,
    growth: growth(before, after),
  };
}
