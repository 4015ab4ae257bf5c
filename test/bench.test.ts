/** The bench runs in quick mode and writes a well-formed results file. It asserts no timing. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../bench/run.ts', import.meta.url));

interface Stat { median: number; min: number; max: number; n: number; unit: string }
interface Fig { id: string; mitogenTs: Stat | { notBuilt: string } | { error: string }; floor: Stat | null; mitogen: Stat | { error: string } | null; ratios: { vsFloor?: number; vsMitogen?: number }; met: boolean | null }

test('npm run bench -- --quick writes latest.json and latest.md with every requested figure', async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, '--quick', '--only', 'rtt,rss,fork', '--results-dir', dir], { timeout: 180_000 });
  const json = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as { date: string; node: string; figures: Fig[] };
  t.is(json.node, process.version);
  t.false(Number.isNaN(Date.parse(json.date)));
  t.deepEqual(json.figures.map((f) => f.id), ['rtt', 'rss', 'fork']);
  const isStat = (s: unknown): s is Stat => !!s && typeof s === 'object' && 'median' in s;
  for (const f of json.figures) {
    for (const side of [f.mitogenTs, f.floor, f.mitogen]) {
      t.true(isStat(side), `${f.id}: ${JSON.stringify(side)}`);
      const s = side as Stat;
      t.true(Number.isFinite(s.median) && s.median > 0 && s.min <= s.median && s.median <= s.max);
    }
    t.is(f.ratios.vsFloor, (f.mitogenTs as Stat).median / (f.floor as Stat).median);
    t.is(f.ratios.vsMitogen, (f.mitogenTs as Stat).median / (f.mitogen as Stat).median);
    t.is(typeof f.met, 'boolean');
  }
  const md = readFileSync(join(dir, 'latest.md'), 'utf8');
  t.is(stdout, md);
  t.regex(md, /\| call round trip to a child \| [\d.]+ µs/);
  t.regex(md, /\| fork\(\): start \+ first call \(a fork of a child\) \| [\d.]+ ms/);
});
