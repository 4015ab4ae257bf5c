/** Calls into a running context: round trips, calls in flight, result throughput. */
import type { Context } from '../../src/index.js';
import { PipeChild } from '../floor/floor.js';
import type { Env, FigureDef, Measured } from '../lib/figure.js';
import { Deadline, repeat, stat, within } from '../lib/measure.js';

const noop = (): null => null;
const WARM_UP = 200;
/** Round trips are timed in alternating blocks of this many, mitogen-ts then the raw pipe. */
const BLOCK = 100;
const MiB = 1 << 20;
/** Untimed bursts of 10k calls before calls in flight are timed. */
const WARM_BURSTS = 3;

/**
 * Sequential round trips to `ctx` and to a raw echo pipe, µs each. The two
 * alternate in blocks so that load from other processes on this shared
 * machine lands on both, not on whichever happened to run during it.
 */
async function roundTrips(ctx: Context, n: number, dl: Deadline): Promise<{ ts: number[]; floor: number[] }> {
  const pipe = await PipeChild.start('echo');
  const ts: number[] = [];
  const floor: number[] = [];
  try {
    // JIT, caches and socket buffers warm on both sides before anything is timed.
    for (let i = 0; i < WARM_UP; i++) { await ctx.call(noop); await pipe.ping(); }
    while (ts.length < n && (ts.length === 0 || !dl.expired)) {
      for (let i = 0; i < BLOCK; i++) {
        const t = performance.now();
        await ctx.call(noop);
        ts.push((performance.now() - t) * 1000);
      }
      for (let i = 0; i < BLOCK; i++) {
        const t = performance.now();
        await pipe.ping();
        floor.push((performance.now() - t) * 1000);
      }
    }
  } finally { pipe.close(); }
  return { ts, floor };
}

async function rttFigure(env: Env, viaChild: boolean): Promise<Measured> {
  const n = viaChild ? env.reps(2000, 300) : env.reps(3000, 500);
  const router = env.router();
  const child = await within(router.local(), 60_000, 'local()');
  const target = viaChild ? await within(router.local({ via: child }), 60_000, 'local({ via })') : child;
  // The whole loop is bounded: n calls, the deadline, and a hard stop for a hung call.
  const { ts, floor } = await within(roundTrips(target, n, env.deadline()), (env.seconds + 60) * 1000, 'round trips');
  await router.shutdown();
  return {
    mitogenTs: stat(ts, 'µs'), floor: stat(floor, 'µs'), mitogen: await env.mitogen({ reps: n, warm_up: WARM_UP, via: viaChild }),
    notes: [viaChild
      ? 'grand_rtt: as rtt, to a grandchild; its floor is the same raw pipe to a child, as its goal is stated.'
      : `rtt: each sample is one sequential call; the floor, a 64-byte length-prefixed frame echoed by a plain node child over its stdio (floor/echo-child.cjs), is timed in blocks of ${BLOCK} alternating with mitogen-ts's.`],
  };
}

export const rtt: FigureDef = {
  id: 'rtt',
  title: 'call round trip to a child',
  goal: '<= 2x the raw pipe, <= half of Mitogen',
  seconds: 30,
  needs: ['floor', 'mitogen'],
  met: (x) => x.vsFloor <= 2 && x.vsMitogen <= 0.5,
  measure: (env) => rttFigure(env, false),
};

export const grandRtt: FigureDef = {
  id: 'grand_rtt',
  title: 'round trip to a grandchild (via a child)',
  goal: '<= 3x the raw pipe (to a child)',
  seconds: 30,
  needs: ['floor'],
  met: (x) => x.vsFloor <= 3,
  measure: (env) => rttFigure(env, true),
};

export const inflight: FigureDef = {
  id: 'inflight',
  title: 'calls in flight: 10k concurrent calls to one child',
  goal: '>= 100k calls/s',
  seconds: 30,
  needs: [],
  met: (x) => x.value >= 100_000,
  async measure(env) {
    const N = 10_000;
    const reps = env.reps(9, 2);
    const router = env.router();
    const ctx = await within(router.local(), 60_000, 'local()');
    const burst = (): Promise<null[]> => within(Promise.all(Array.from({ length: N }, () => ctx.call(noop))), 60_000, `${N} calls`);
    // Untimed: the first bursts run far slower while the JIT warms up on four threads (35k -> 85k calls/s
    // over the first five, measured); Mitogen's side warms up alike.
    const warm = env.quick ? 1 : WARM_BURSTS;
    for (let i = 0; i < warm; i++) await burst();
    const ts: number[] = [];
    await repeat(reps, env.deadline(), async () => {
      const t = performance.now();
      await burst();
      ts.push(N / ((performance.now() - t) / 1000));
    });
    await router.shutdown();
    return { mitogenTs: stat(ts, 'calls/s'), floor: null, mitogen: await env.mitogen({ reps, calls: N, warm_up: warm }) };
  },
};

export const throughput: FigureDef = {
  id: 'throughput',
  title: 'result throughput: a call returning 1 MiB of random bytes',
  goal: '>= 50% of the raw pipe, >= 4x Mitogen',
  seconds: 30,
  needs: ['floor', 'mitogen'],
  met: (x) => x.vsFloor >= 0.5 && x.vsMitogen >= 4,
  async measure(env) {
    const reps = env.reps(9, 3);
    const perRep = env.reps(50, 20); // MiB moved per repetition, on every side
    const router = env.router();
    const ctx = await within(router.local(), 60_000, 'local()');
    // Made once in the child; every later call returns the same buffer, so this times moving it, not making it.
    const block = (n: number): Uint8Array => {
      const g = globalThis as unknown as { benchBlock?: Uint8Array };
      if (g.benchBlock?.length !== n) g.benchBlock = (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);
      return g.benchBlock;
    };
    const pipe = await PipeChild.start('source');
    const ts: number[] = [];
    const floor: number[] = [];
    const mbps = (t: number): number => (perRep * MiB) / ((performance.now() - t) / 1000) / 1e6;
    try {
      // Untimed warm-up batch on every side (the first call also makes the block).
      for (let i = 0; i <= perRep; i++) await within(ctx.call(block, MiB), 30_000, '1 MiB call');
      await pipe.pull(perRep);
      // Alternating, as for round trips.
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        for (let i = 0; i < perRep; i++) await within(ctx.call(block, MiB), 30_000, '1 MiB call');
        ts.push(mbps(t));
        t = performance.now();
        await within(pipe.pull(perRep), 30_000, 'raw pipe');
        floor.push(mbps(t));
      });
    } finally { pipe.close(); }
    await router.shutdown();
    return {
      mitogenTs: stat(ts, 'MB/s'), floor: stat(floor, 'MB/s'), mitogen: await env.mitogen({ reps, calls: perRep }),
      notes: [`throughput: ${perRep} sequential calls (or ${perRep} frames of 1 MiB on the raw pipe) per repetition; MB = 10^6 bytes.`],
    };
  },
};
