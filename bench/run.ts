/**
 * `npm run bench [-- --quick] [--only ID,ID] [--results-dir DIR]`
 *
 * Measures, in one run on this machine, mitogen-ts, the floor (what the
 * machine does with nothing on top) and Mitogen (Debian's python3-mitogen,
 * installed by setup.sh when missing), and writes DIR/latest.json and
 * DIR/latest.md (default DIR: bench/results). Progress goes to stderr, the
 * table to stdout. Goals are reported, never asserted: this is not a test.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Router } from '../src/index.js';
import { FIGURES } from './figures/index.js';
import { result } from './lib/figure.js';
import type { Env, FigureDef, FigureResult, Measured } from './lib/figure.js';
import { Deadline, marker, within } from './lib/measure.js';
import { mitogen, mitogenVersions } from './lib/mitogen.js';
import { cell, markdown } from './lib/report.js';
import type { Meta, Results } from './lib/report.js';

const USAGE = `usage: run.ts [--quick] [--only ${FIGURES.map((f) => f.id).join(',')}] [--results-dir DIR]`;
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

function parseArgs(argv: string[]): { quick: boolean; only: Set<string> | undefined; dir: string } {
  let quick = false;
  let only: Set<string> | undefined;
  let dir = fileURLToPath(new URL('./results/', import.meta.url));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--quick') quick = true;
    else if (a === '--only') only = new Set(value().split(',').filter(Boolean));
    else if (a === '--results-dir') dir = resolve(value());
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  const unknown = [...(only ?? [])].filter((id) => !FIGURES.some((f) => f.id === id));
  if (unknown.length) throw new Error(`unknown figure ${unknown.join(', ')}\n${USAGE}`);
  return { quick, only, dir };
}

const exec = promisify(execFile);

async function machine(): Promise<Meta['machine']> {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return { cpu, cores: os.availableParallelism(), memGiB: Math.round(os.totalmem() / 2 ** 30) };
}

/** Installs python3-mitogen if missing (setup.sh, idempotent); a failure leaves every Mitogen side an error, not the run. */
async function setup(): Promise<string | undefined> {
  try {
    await exec('bash', [fileURLToPath(new URL('./setup.sh', import.meta.url))], { timeout: 300_000 });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return (err.stderr?.trim() || err.message).split('\n').pop();
  }
}

async function runFigure(def: FigureDef, quick: boolean, mitogenMissing: string | undefined): Promise<FigureResult> {
  const t = performance.now();
  // --quick: fewer repetitions, and a quarter of the time limit.
  const seconds = quick ? Math.max(5, def.seconds / 4) : def.seconds;
  const routers: Router[] = [];
  const env: Env = {
    quick,
    seconds,
    reps: (full, q) => (quick ? q : full),
    deadline: () => new Deadline(seconds),
    router: () => { const r = new Router(); routers.push(r); return r; },
    mitogen: (args) => (mitogenMissing ? Promise.resolve(marker('error', `Mitogen is not available: ${mitogenMissing}`)) : mitogen(def.id, { ...args, seconds })),
  };
  let m: Measured;
  try {
    // Every loop inside is bounded in count and time; this is the last stop for anything that still hangs.
    m = await within(def.measure(env), (seconds * 4 + 240) * 1000, def.id);
  } catch (e) {
    m = { mitogenTs: marker('error', (e as Error).message), floor: null, mitogen: null };
  } finally {
    // Whatever happened, no context outlives its figure (shutdown is idempotent).
    await Promise.allSettled(routers.map((r) => within(r.shutdown(), 30_000, 'router shutdown')));
  }
  return result(def, m, (performance.now() - t) / 1000);
}

async function main(): Promise<number> {
  const { quick, only, dir } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  log(`bench: ${quick ? 'quick run' : 'full run'}; results in ${dir}`);
  const mitogenMissing = await setup();
  if (mitogenMissing) log(`bench: Mitogen is not available (${mitogenMissing}); its column will say so`);
  const [mach, versions, dpkg] = await Promise.all([
    machine(),
    mitogenVersions(),
    exec('dpkg-query', ['-W', '-f', '${Version}', 'python3-mitogen']).then((r) => r.stdout.trim(), () => ''),
  ]);
  const meta: Meta = {
    date: new Date().toISOString(), machine: mach, node: process.version, python: versions.python,
    mitogen: dpkg ? `${versions.mitogen} (Debian python3-mitogen ${dpkg})` : versions.mitogen, quick, seconds: 0,
  };
  const todo = FIGURES.filter((f) => !only || only.has(f.id));
  const figures: FigureResult[] = [];
  for (const [i, def] of todo.entries()) {
    log(`[${i + 1}/${todo.length}] ${def.id}: ${def.title}`);
    const r = await runFigure(def, quick, mitogenMissing);
    figures.push(r);
    log(`      mitogen-ts ${cell(r.mitogenTs)} | floor ${cell(r.floor)} | Mitogen ${cell(r.mitogen)} | ${r.met === null ? 'goal —' : r.met ? 'goal met' : 'goal missed'} (${r.seconds.toFixed(1)} s)`);
  }
  const results: Results = { schema: 1, ...meta, seconds: (performance.now() - started) / 1000, figures };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  writeFileSync(join(dir, 'latest.md'), md);
  process.stdout.write(md);
  const errors = figures.filter((f) => [f.mitogenTs, f.floor, f.mitogen].some((s) => s?.kind === 'error'));
  if (errors.length) log(`bench: errors in ${errors.map((f) => f.id).join(', ')} (see the table)`);
  return errors.length ? 1 : 0;
}

let code: number;
try {
  code = await main();
} catch (e) {
  log(`bench: ${(e as Error).message}`);
  code = 2;
}
// Exit explicitly: a context that failed to shut down must not keep the bench alive.
process.exit(code);
