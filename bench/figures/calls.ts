/** Calls into a running context: round trips, calls in flight, result throughput. */
import type { Context } from '../../src/index.js';
import { HOP_TEXT, HOPS, PipeChild, startDesignFloor } from '../floor/floor.js';
import type { DesignFloor, Hop } from '../floor/floor.js';
import type { Env, FigureDef, Measured } from '../lib/figure.js';
import { Deadline, repeat, stat, within } from '../lib/measure.js';

const noop = (): null => null;
const WARM_UP = 200;
/** Round trips are timed in alternating blocks of this many: mitogen-ts, the design floor, each hop candidate, the raw pipe. */
const BLOCK = 100;
const MiB = 1 << 20;
/** Untimed bursts of 10k calls before calls in flight are timed. */
const WARM_BURSTS = 3;

/** What one sequential round trip is timed against, each in the same alternating blocks. */
interface Floors { design: DesignFloor; candidates: DesignFloor[]; pipe: PipeChild }

async function startFloors(): Promise<Floors> {
  const pipe = await PipeChild.start('echo');
  const design = await startDesignFloor('port');
  const candidates: DesignFloor[] = [];
  for (const hop of HOPS.filter((h) => h !== 'port')) candidates.push(await startDesignFloor(hop));
  return { design, candidates, pipe };
}

async function closeFloors(f: Floors): Promise<void> {
  f.pipe.close();
  await Promise.allSettled([f.design, ...f.candidates].map((d) => d.close()));
}

type Samples = { ts: number[]; design: number[]; pipe: number[]; hops: Map<Hop, number[]> };

/**
 * Sequential round trips to `ctx`, to the design floor (with each hop candidate) and to a raw
 * echo pipe, µs each. They alternate in blocks so that load from other processes on this shared
 * machine lands on all of them, not on whichever happened to run during it.
 */
async function roundTrips(ctx: Context, n: number, dl: Deadline, floors: Floors): Promise<Samples> {
  const s: Samples = { ts: [], design: [], pipe: [], hops: new Map(HOPS.map((h) => [h, []])) };
  const timed = async (out: number[], once: () => Promise<unknown>): Promise<void> => {
    for (let i = 0; i < BLOCK; i++) {
      const t = performance.now();
      await once();
      out.push((performance.now() - t) * 1000);
    }
  };
  // JIT, caches and socket buffers warm on every side before anything is timed.
  for (let i = 0; i < WARM_UP; i++) {
    await ctx.call(noop); await floors.design.ping(); await floors.pipe.ping();
    for (const c of floors.candidates) await c.ping();
  }
  // Each round starts one place further along, so no side always runs right after mitogen-ts's block
  // (its threads may still be finishing work when the next block starts).
  const sides: [number[], () => Promise<unknown>][] = [
    [s.ts, () => ctx.call(noop)],
    [s.design, () => floors.design.ping()],
    ...floors.candidates.map((c): [number[], () => Promise<unknown>] => [s.hops.get(c.mode)!, () => c.ping()]),
    [s.pipe, () => floors.pipe.ping()],
  ];
  for (let round = 0; s.ts.length < n && (s.ts.length === 0 || !dl.expired); round++) {
    for (let i = 0; i < sides.length; i++) {
      const [out, once] = sides[(round + i) % sides.length]!;
      await timed(out, once);
    }
  }
  s.hops.set('port', s.design);
  return s;
}

async function rttFigure(env: Env, viaChild: boolean): Promise<Measured> {
  const n = viaChild ? env.reps(2000, 300) : env.reps(3000, 500);
  const router = env.router();
  const child = await within(router.local(), 60_000, 'local()');
  const target = viaChild ? await within(router.local({ via: child }), 60_000, 'local({ via })') : child;
  const floors = await startFloors();
  let s: Samples;
  try {
    // The whole loop is bounded: n calls, the deadline, and a hard stop for a hung call.
    s = await within(roundTrips(target, n, env.deadline(), floors), (env.seconds + 60) * 1000, 'round trips');
  } finally { await closeFloors(floors); }
  await router.shutdown();
  const design = stat(s.design, 'µs');
  const portMedian = design?.kind === 'stat' ? design.median : Number.NaN;
  const hopNotes = HOPS.filter((h) => h !== 'port').map((h) => {
    const side = stat(s.hops.get(h)!, 'µs');
    const r = side?.kind === 'stat' ? ` (${(side.median / portMedian).toFixed(2)}x the Worker's own port)` : '';
    return { label: `the design floor with ${HOP_TEXT[h]}${r}`, side, where: 'notes' as const };
  });
  return {
    mitogenTs: stat(s.ts, 'µs'), floor: design, mitogen: await env.mitogen({ reps: n, warm_up: WARM_UP, via: viaChild }),
    moreFloors: [{ label: 'raw pipe', side: stat(s.pipe, 'µs'), where: 'cell' }, ...(viaChild ? [] : hopNotes)],
    notes: [viaChild
      ? 'grand_rtt: as rtt, to a grandchild; its floor is the same design floor to a child (the goal is Mitogen\'s grandchild round trip).'
      : `rtt: each sample is one sequential call; the floor is the design's own path with no runtime (floor/design-floor.cjs: master main → worker postMessage → pipe → the child's worker → the child's main and back, 64-byte frames, no codec, no router); the raw pipe (a 64-byte length-prefixed frame echoed by a plain node child over its stdio, floor/echo-child.cjs) and the hop candidates (the same path with another thread hop) are shown for reference; all timed in blocks of ${BLOCK} alternating with mitogen-ts's.`],
  };
}

export const rtt: FigureDef = {
  id: 'rtt',
  title: 'call round trip to a child',
  goal: "<= 1.15x the design floor, <= Mitogen's",
  seconds: 30,
  needs: ['floor', 'mitogen'],
  met: (x) => x.vsFloor <= 1.15 && x.vsMitogen <= 1,
  measure: (env) => rttFigure(env, false),
};

export const grandRtt: FigureDef = {
  id: 'grand_rtt',
  title: 'round trip to a grandchild (via a child)',
  goal: "<= Mitogen's (the design floor to a child for reference)",
  seconds: 30,
  needs: ['mitogen'],
  met: (x) => x.vsMitogen <= 1,
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
  goal: '>= 0.5x the one-way pipe floor (a child writing 1 MiB per request on its stdout)',
  seconds: 30,
  needs: ['floor'],
  met: (x) => x.vsFloor >= 0.5,
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
      for (let i = 0; i < perRep; i++) await pipe.pull(1);
      // Alternating, as for round trips.
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        for (let i = 0; i < perRep; i++) await within(ctx.call(block, MiB), 30_000, '1 MiB call');
        ts.push(mbps(t));
        t = performance.now();
        // One request, one 1 MiB frame, sequentially: the same shape as the calls.
        for (let i = 0; i < perRep; i++) await within(pipe.pull(1), 30_000, 'raw pipe');
        floor.push(mbps(t));
      });
    } finally { pipe.close(); }
    await router.shutdown();
    return {
      mitogenTs: stat(ts, 'MB/s'), floor: stat(floor, 'MB/s'), mitogen: await env.mitogen({ reps, calls: perRep }),
      notes: [`throughput: ${perRep} sequential calls per repetition; the floor, the one-way pipe: ${perRep} sequential requests to a plain node child each answered with a 1 MiB frame on its stdout (floor/echo-child.cjs source); MB = 10^6 bytes.`],
    };
  },
};
