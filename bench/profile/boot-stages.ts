/**
 * Where a boot goes, stage by stage: `npx tsx bench/profile/boot-stages.ts [--reps 9]`
 *
 * Each repetition times `router.local()` + the first `call(() => null)` (one
 * Router, warmed by an untimed boot, as the bench's boot figure) of a child
 * whose interpreter is `node --require preload.cjs`: the preload appends a
 * timestamp per stage to a file (preload.cjs lists them; one monotonic clock,
 * process.hrtime, in every thread and process) and this side adds its own
 * (local() called, local() resolved, first call's result). A plain boot (no
 * preload) alternates with it, so what the stamps cost shows too. Prints ms
 * per stage, medians over the repetitions.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '../../src/index.js';
import { numberArg } from '../lib/script-args.js';

const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const REPS = numberArg('--reps', 9);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const now = (): bigint => process.hrtime.bigint();

/** [label, from stage, to stage]: each row is the time between two stamps. */
const STAGES: [string, string, string][] = [
  ['master: local() → the child process exists (the master\'s broker spawns it; node starts)', 'local() called', 'process start'],
  ['node bootstraps itself (process start → a --require preload runs)', 'process start', 'preload (node bootstrapped)'],
  ['first stage runs until it starts the broker worker', 'preload (node bootstrapped)', 'new Worker (broker)'],
  ['… and on → MITO000', 'new Worker (broker)', 'MITO000 written'],
  ['payload, config and code caches read from stdin, caches inflated (MITO000 → MITO001)', 'MITO000 written', 'MITO001 written'],
  ['inflate (zlib.inflateSync of the payload)', 'inflate start', 'inflate end'],
  ['JSON.parse of the runtime', 'inflate end', 'runtime JSON parsed'],
  ['main bundle compile (vm.Script, with its cache when it has one)', 'main bundle compile start', 'main bundle compiled'],
  ['main bundle eval until the worker is sent its bundle (child-boot.ts, the first module)', 'main bundle eval start', 'broker sent its bundle'],
  ['main bundle eval after that (in parallel with the broker)', 'broker sent its bundle', 'main bundle eval end'],
  ['worker start (new Worker → its first line), in parallel with all the above', 'new Worker (broker)', 'broker worker up'],
  ['worker up → its bundle compile starts (waiting for the bundle, if it is not there yet)', 'broker worker up', 'broker bundle compile start'],
  ['broker bundle compile (vm.Script, with its cache)', 'broker bundle compile start', 'broker bundle compiled'],
  ['broker bundle eval until MITO002 is written (it takes fds 0/1 as it evaluates)', 'broker bundle eval start', 'MITO002 written'],
  ['(broker bundle eval, whole)', 'broker bundle eval start', 'broker bundle eval end'],
  ['MITO002 → the first call\'s result in the master', 'MITO002 written', 'first call result'],
  ['(master: local() resolved, from local() called)', 'local() called', 'local() resolved'],
  ['total: local() → the first call\'s result', 'local() called', 'first call result'],
];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'mitogen-boot-stages-'));
  const file = join(dir, 'stamps.jsonl');
  // Before the Router: its broker worker, which spawns the children, has a copy of our environment from its start.
  process.env.MITO_BOOT_STAMPS = file;
  const router = new Router();
  const nodePath = [process.execPath, '--require', preload];
  // Untimed: the payload is bundled on first use; the master's broker starts.
  const warm = await router.local({ nodePath });
  await warm.call(() => null);
  await warm.shutdown({ wait: true });
  const rows = new Map<string, number[]>(STAGES.map(([l]) => [l, []]));
  const plain: number[] = [];
  const stamped: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    {
      const t = performance.now();
      const ctx = await router.local();
      await ctx.call(() => null);
      plain.push(performance.now() - t);
      await ctx.shutdown({ wait: true });
    }
    writeFileSync(file, '');
    const mine: Record<string, bigint> = {};
    const t = performance.now();
    mine['local() called'] = now();
    const ctx = await router.local({ nodePath });
    mine['local() resolved'] = now();
    await ctx.call(() => null);
    mine['first call result'] = now();
    stamped.push(performance.now() - t);
    await ctx.shutdown({ wait: true });
    const at: Record<string, bigint> = { ...mine };
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
      const s = JSON.parse(line) as { stage: string; t: string };
      at[s.stage] ??= BigInt(s.t);
    }
    for (const [label, from, to] of STAGES) {
      if (at[from] !== undefined && at[to] !== undefined) rows.get(label)!.push(Number(at[to]! - at[from]!) / 1e6);
    }
    process.stderr.write(`rep ${rep + 1}/${REPS}: plain ${plain.at(-1)!.toFixed(0)} ms, stamped ${stamped.at(-1)!.toFixed(0)} ms\n`);
  }
  await router.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const f = (x: number): string => x.toFixed(1);
  const out = [
    `${REPS} boots with stamps alternating with ${REPS} plain ones, medians (min–max), ms. Plain boot: ${f(median(plain))} ms; with the stamping preload: ${f(median(stamped))} ms.`,
    '',
    '| stage | ms |',
    '|---|---|',
    ...STAGES.map(([l]) => {
      const xs = rows.get(l)!;
      return `| ${l} | ${xs.length ? `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : '—'} |`;
    }),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
process.exit(0);
