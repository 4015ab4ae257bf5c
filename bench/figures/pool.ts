/** CPU fan-out: a pool of worker threads in a child against piscina in this process. */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { FigureDef } from '../lib/figure.js';
import { repeat, stat, within } from '../lib/measure.js';

/** Calls per repetition, and the loop each one spins (well under a millisecond of CPU). */
const CALLS = 2000;
const SPIN = 20_000;
const spin = (n: number): number => {
  let x = 0;
  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
  return x;
};

export const pool: FigureDef = {
  id: 'pool',
  title: `pool: ${CALLS} small CPU calls over a pool of one thread per core (calls/s)`,
  goal: ">= 0.8x piscina's calls/s (piscina in the master, no IPC)",
  seconds: 30,
  needs: ['floor'],
  met: (x) => x.vsFloor >= 0.8,
  async measure(env) {
    const size = availableParallelism();
    const reps = env.reps(7, 2);
    const router = env.router();
    const host = await within(router.local(), 60_000, 'local()');
    const p = await within(host.pool({ size }), 60_000, 'pool()');
    const piscina = new Piscina({ filename: fileURLToPath(new URL('../floor/pool-task.cjs', import.meta.url)), minThreads: size, maxThreads: size });
    const ours = (): Promise<number[]> => within(Promise.all(Array.from({ length: CALLS }, () => p.call(spin, SPIN))), 120_000, 'pool calls');
    const theirs = (): Promise<number[]> => within(Promise.all(Array.from({ length: CALLS }, () => piscina.run(SPIN) as Promise<number>)), 120_000, 'piscina calls');
    const ts: number[] = [];
    const floor: number[] = [];
    try {
      await ours();
      await theirs();
      // Alternating, so load from elsewhere lands on both sides alike.
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        await ours();
        ts.push(CALLS / ((performance.now() - t) / 1000));
        t = performance.now();
        await theirs();
        floor.push(CALLS / ((performance.now() - t) / 1000));
      });
    } finally {
      await piscina.destroy();
      await p.close();
      await router.shutdown();
    }
    return {
      mitogenTs: stat(ts, 'calls/s'), floor: stat(floor, 'calls/s'), mitogen: null,
      notes: [`pool: ${size} threads each side; mitogen-ts's pool lives in a child (each call crosses its pipe), piscina in the master; Mitogen has no pool.`],
    };
  },
};
