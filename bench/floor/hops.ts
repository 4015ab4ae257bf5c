/**
 * The thread-hop candidates side by side in the design floor's path
 * (design-floor.cjs), in one run:
 *
 *   npx tsx bench/floor/hops.ts [--reps 9] [--calls 1000] [--no-ts]
 *
 * Each repetition times, in turn, `--calls` sequential round trips of a
 * 64-byte frame on every candidate (and, unless --no-ts, as many
 * `ctx.call(() => null)` to a local mitogen-ts child), then bursts of 16
 * frames in flight; a second pass with per-thread timestamps in the frame
 * says what each hop of the round trip takes. Prints a Markdown table of the
 * medians over the repetitions (ratios to the Worker's own port from the same
 * run). The rtt figure of `npm run bench` times the same candidates in its
 * notes; this script takes more repetitions.
 */
import { Router } from '../../src/index.js';
import { HOP_TEXT, HOPS, startDesignFloor } from './floor.js';
import { noop, numberArg as arg } from '../lib/script-args.js';
import type { DesignFloor, Hop } from './floor.js';

const REPS = arg('--reps', 9);
const CALLS = arg('--calls', 1000);
const WITH_TS = !process.argv.includes('--no-ts');
const BURST = 16;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number): string => x.toFixed(x >= 100 ? 0 : 1);
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

async function main(): Promise<void> {
  const floors = new Map<Hop, DesignFloor>();
  for (const h of HOPS) floors.set(h, await startDesignFloor(h));
  const router = WITH_TS ? new Router() : undefined;
  const ctx = router ? await router.local() : undefined;
  const rtt = new Map<string, number[]>([...HOPS, ...(WITH_TS ? ['mitogen-ts'] : [])].map((k) => [k, []]));
  const burst = new Map<Hop, number[]>(HOPS.map((h) => [h, []]));
  // Warm-up, untimed.
  for (let i = 0; i < 300; i++) {
    for (const f of floors.values()) await f.ping();
    await ctx?.call(noop);
  }
  for (let rep = 0; rep < REPS; rep++) {
    // Within a repetition the candidates alternate in blocks of 100, so load from other processes lands on
    // all of them; each candidate's median over the rep, then the median over reps.
    const xs = new Map<string, number[]>([...rtt.keys()].map((k) => [k, []]));
    const block = async (key: string, ping: () => Promise<unknown>): Promise<void> => {
      const out = xs.get(key)!;
      for (let i = 0; i < 100; i++) { const t = performance.now(); await ping(); out.push((performance.now() - t) * 1000); }
    };
    const sides: [string, () => Promise<unknown>][] = [...[...floors].map(([h, f]): [string, () => Promise<unknown>] => [h, () => f.ping()]),
      ...(ctx ? [['mitogen-ts', () => ctx.call(noop)] as [string, () => Promise<unknown>]] : [])];
    // Each round starts one place further along: no candidate always follows the same one.
    for (let b = 0; b < CALLS / 100; b++) {
      for (let j = 0; j < sides.length; j++) { const [k, once] = sides[(b + j) % sides.length]!; await block(k, once); }
    }
    for (const [k, v] of xs) if (v.length) rtt.get(k)!.push(median(v));
    for (const [h, f] of floors) {
      const t = performance.now();
      for (let i = 0; i < CALLS / BURST; i++) await f.burst(BURST);
      burst.get(h)!.push(((performance.now() - t) * 1000) / (Math.floor(CALLS / BURST) * BURST));
    }
    log(`rep ${rep + 1}/${REPS}: ${[...rtt].map(([k, v]) => `${k} ${fmt(v.at(-1)!)}`).join(', ')} µs`);
  }
  for (const f of floors.values()) await f.close();
  // Per-hop timestamps: a second set of floors writing the clock into the frame.
  const hops = new Map<Hop, number[][]>(HOPS.map((h) => [h, []]));
  const stamped = new Map<Hop, DesignFloor>();
  for (const h of HOPS) stamped.set(h, await startDesignFloor(h, { stamps: true }));
  for (const f of stamped.values()) for (let i = 0; i < 300; i++) await f.ping();
  for (let rep = 0; rep < REPS; rep++) {
    const rows = new Map<Hop, number[][]>(HOPS.map((h) => [h, []]));
    for (let b = 0; b < CALLS / 100; b++) {
      for (const [h, f] of stamped) for (let i = 0; i < 100; i++) rows.get(h)!.push(await f.hops());
    }
    // Six hop medians, then the median of each stamped round trip's own total.
    for (const h of HOPS) hops.get(h)!.push([...[0, 1, 2, 3, 4, 5].map((k) => median(rows.get(h)!.map((r) => r[k]!))), median(rows.get(h)!.map((r) => r.reduce((a, b) => a + b, 0)))]);
  }
  for (const f of stamped.values()) await f.close();
  await router?.shutdown();

  const port = median(rtt.get('port')!);
  const portBurst = median(burst.get('port')!);
  const out = [
    `Hop candidates in the design floor's path, ${REPS} repetitions of ${CALLS} sequential round trips each, the candidates alternating in blocks of 100, each round starting one further along (a rep's median, then the median over reps; min–max over reps), in one run; ${BURST} in flight: µs per frame.`,
    '',
    '| hop | round trip, µs | ÷ port | 16 in flight, µs/frame | ÷ port |',
    '|---|---|---|---|---|',
    ...HOPS.map((h) => {
      const r = rtt.get(h)!;
      const b = burst.get(h)!;
      return `| ${h}: ${HOP_TEXT[h]} | ${fmt(median(r))} (${fmt(Math.min(...r))}–${fmt(Math.max(...r))}) | ${(median(r) / port).toFixed(2)}x | ${fmt(median(b))} | ${(median(b) / portBurst).toFixed(2)}x |`;
    }),
    ...(ctx ? [`| mitogen-ts \`ctx.call(() => null)\`, same run | ${fmt(median(rtt.get('mitogen-ts')!))} (${fmt(Math.min(...rtt.get('mitogen-ts')!))}–${fmt(Math.max(...rtt.get('mitogen-ts')!))}) | ${(median(rtt.get('mitogen-ts')!) / port).toFixed(2)}x | — | — |`] : []),
    '',
    'Per hop (timestamps in the frame, one monotonic clock; a separate pass, the candidates alternating in blocks of 100), µs, median over reps of each rep\'s median (so the hops need not add up to the round trip):',
    '',
    '| hop | master main → its worker | pipe → child\'s worker | → child\'s main | child\'s main → its worker | pipe → master\'s worker | → master main | round trip (median of the stamped ones) |',
    '|---|---|---|---|---|---|---|---|',
    ...HOPS.map((h) => {
      const per = [0, 1, 2, 3, 4, 5, 6].map((k) => median(hops.get(h)!.map((r) => r[k]!)));
      return `| ${h} | ${per.map(fmt).join(' | ')} |`;
    }),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
process.exit(0);
