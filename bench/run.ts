/**
 * `npm run bench [-- --quick] [--only FIGURE,FIGURE] [--results-dir DIR]`
 *
 * Measures, in one run on this machine, mitogen-ts, the floor (bare node, a
 * raw pipe, raw ssh) and Mitogen (Debian's python3-mitogen, installed by
 * bench/setup.sh when missing), and writes results/latest.json and
 * results/latest.md. Each figure: the median of several repetitions, with
 * min and max. Not a test: goals are reported, never asserted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from '../src/index.js';
import type { Context } from '../src/index.js';
import { bareNodeRss, nodeStart, rawPipeRtt, rawPipeThroughput, rssMb, workerStart } from './floor.js';
import { stat } from './stats.js';
import type { Stat } from './stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : undefined;
const resultsDir = args.includes('--results-dir') ? args[args.indexOf('--results-dir') + 1]! : fileURLToPath(new URL('./results/', import.meta.url));
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const reps = (full: number, q: number): number => (quick ? q : full);

type Side = Stat | { notBuilt: string } | { error: string } | null;

interface Figure {
  id: string;
  title: string;
  goal: string;
  mitogenTs: Side;
  floor: Side;
  mitogen: Side;
  ratios: { vsFloor?: number; vsMitogen?: number };
  met: boolean | null;
}

const log = (s: string): void => { process.stderr.write(`${s}\n`); };

function mitogen(figure: string, n: number, arg?: string): Side {
  const r = spawnSync('/usr/bin/python3', ['-I', here('./mitogen/bench_mitogen.py'), figure, String(n), ...(arg ? [arg] : [])], {
    encoding: 'utf8', timeout: 240_000, cwd: os.tmpdir(),
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const out = JSON.parse(line) as { samples?: number[]; unit?: string; error?: string };
    if (out.error) return { error: out.error };
    return stat(out.samples!, out.unit!);
  } catch {
    return { error: `bench_mitogen.py ${figure}: ${(r.stderr || r.error?.message || 'no output').trim().split('\n').pop()}` };
  }
}

async function timedCalls(ctx: Context, n: number): Promise<number[]> {
  for (let i = 0; i < Math.min(200, n); i++) await ctx.call(() => null);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await ctx.call(() => null);
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

const isStat = (s: Side): s is Stat => !!s && 'median' in s;
const ratio = (a: Side, b: Side): number | undefined => (isStat(a) && isStat(b) ? a.median / b.median : undefined);

function figure(id: string, title: string, goal: string, mitogenTs: Side, floor: Side, mit: Side, met: (r: { vsFloor?: number; vsMitogen?: number }, ts: Stat) => boolean): Figure {
  const ratios = { vsFloor: ratio(mitogenTs, floor), vsMitogen: ratio(mitogenTs, mit) };
  return { id, title, goal, mitogenTs, floor, mitogen: mit, ratios, met: isStat(mitogenTs) ? met(ratios, mitogenTs) : null };
}

const figures: Record<string, () => Promise<Figure>> = {
  async boot() {
    const router = new Router();
    const ts: number[] = [];
    try {
      for (let i = 0; i < reps(10, 3); i++) {
        const t = performance.now();
        const ctx = await router.local();
        await ctx.call(() => null);
        ts.push(performance.now() - t);
        await ctx.shutdown({ wait: true });
      }
    } finally { await router.shutdown(); }
    return figure('boot', 'boot: local() to the first call\'s result', '<= 1.3x floor (node -e 0), faster than Mitogen',
      stat(ts, 'ms'), stat(nodeStart(reps(10, 3)), 'ms'), mitogen('boot', reps(10, 3)),
      (r) => (r.vsFloor ?? Infinity) <= 1.3 && (r.vsMitogen ?? Infinity) < 1);
  },
  async rtt() {
    const router = new Router();
    let ts: number[];
    try { ts = await timedCalls(await router.local(), reps(3000, 500)); } finally { await router.shutdown(); }
    return figure('rtt', 'call round trip to a child', '<= 2x the raw pipe, <= half of Mitogen',
      stat(ts, 'µs'), stat(await rawPipeRtt(reps(3000, 500)), 'µs'), mitogen('rtt', reps(3000, 500)),
      (r) => (r.vsFloor ?? Infinity) <= 2 && (r.vsMitogen ?? Infinity) <= 0.5);
  },
  async grand_rtt() {
    const router = new Router();
    let ts: number[];
    try { ts = await timedCalls(await router.local({ via: await router.local() }), reps(2000, 300)); } finally { await router.shutdown(); }
    return figure('grand_rtt', 'round trip to a grandchild', '<= 3x the raw pipe',
      stat(ts, 'µs'), stat(await rawPipeRtt(reps(2000, 300)), 'µs'), mitogen('grand_rtt', reps(2000, 300)),
      (r) => (r.vsFloor ?? Infinity) <= 3);
  },
  async inflight() {
    const router = new Router();
    const ts: number[] = [];
    try {
      const ctx = await router.local();
      await ctx.call(() => null);
      for (let i = 0; i < reps(5, 2); i++) {
        const t = performance.now();
        await Promise.all(Array.from({ length: 10_000 }, () => ctx.call(() => null)));
        ts.push(10_000 / ((performance.now() - t) / 1000));
      }
    } finally { await router.shutdown(); }
    return figure('inflight', 'calls in flight: 10k concurrent calls to one child', '>= 100k calls/s',
      stat(ts, 'calls/s'), null, mitogen('inflight', reps(5, 2)), (_r, s) => s.median >= 100_000);
  },
  async throughput() {
    const router = new Router();
    const ts: number[] = [];
    try {
      const ctx = await router.local();
      const block = (n: number) => {
        const g = globalThis as { benchBlock?: Uint8Array };
        if (!g.benchBlock || g.benchBlock.length !== n) g.benchBlock = require('node:crypto').randomBytes(n) as Uint8Array;
        return g.benchBlock;
      };
      await ctx.call(block, 1 << 20);
      for (let i = 0; i < reps(5, 2); i++) {
        const k = 50;
        const t = performance.now();
        for (let j = 0; j < k; j++) await ctx.call(block, 1 << 20);
        ts.push((k * (1 << 20)) / ((performance.now() - t) / 1000) / 1e6);
      }
    } finally { await router.shutdown(); }
    return figure('throughput', 'result throughput, 1 MiB of random bytes per call', '>= 50% of the raw pipe, >= 4x Mitogen',
      stat(ts, 'MB/s'), stat(await rawPipeThroughput(reps(5, 2)), 'MB/s'), mitogen('throughput', reps(5, 2)),
      (r) => (r.vsFloor ?? 0) >= 0.5 && (r.vsMitogen ?? 0) >= 4);
  },
  async fanout() {
    const n = quick ? 10 : 50;
    const ts: number[] = [];
    for (let i = 0; i < reps(3, 1); i++) {
      const router = new Router();
      try {
        const t = performance.now();
        const ctxs = await Promise.all(Array.from({ length: n }, () => router.local()));
        await Promise.all(ctxs.map((c) => c.call(() => null)));
        ts.push((performance.now() - t) / 1000);
      } finally { await router.shutdown(); }
    }
    return figure('fanout', `fan-out: start ${n} local children and call each once`, '>= 5x faster than Mitogen (which connects one at a time)',
      stat(ts, 's'), null, mitogen('fanout', reps(3, 1), String(n)), (r) => (r.vsMitogen ?? Infinity) <= 0.2);
  },
  async rss() {
    const router = new Router();
    const ts: number[] = [];
    try {
      for (let i = 0; i < reps(5, 2); i++) {
        const ctx = await router.local();
        const pid = await ctx.call(() => process.pid);
        await new Promise((r) => setTimeout(r, 200)); // let the child settle, as every side does
        ts.push(rssMb(pid));
        await ctx.shutdown({ wait: true });
      }
    } finally { await router.shutdown(); }
    return figure('rss', 'idle child RSS', '<= 1.3x bare node',
      stat(ts, 'MB'), stat(await bareNodeRss(reps(5, 2)), 'MB'), mitogen('rss', reps(5, 2)), (r) => (r.vsFloor ?? Infinity) <= 1.3);
  },
  async fork() {
    const router = new Router();
    const ts: number[] = [];
    try {
      // As Mitogen's figure: forks of a child context, each shut down before the next.
      const parent = await router.local();
      for (let i = 0; i < reps(10, 3); i++) {
        const t = performance.now();
        const f = await router.fork({ via: parent });
        await f.call(() => null);
        ts.push(performance.now() - t);
        await f.shutdown({ wait: true });
      }
    } finally { await router.shutdown(); }
    return figure('fork', 'fork(): start + first call (a fork of a child)', '< 65 ms',
      stat(ts, 'ms'), stat(await workerStart(reps(10, 3)), 'ms'), mitogen('fork', reps(10, 3)), (_r, s) => s.median < 65);
  },
  async ssh() {
    const file = '/var/tmp/mitogen-testbed/ssh/hosts.json';
    if (!existsSync(file)) {
      const none = { error: 'the ssh test hosts are not up (run npm test as root first)' };
      return figure('ssh', 'ssh: bootstrap + first call over loopback to a test host', 'faster than Mitogen; ssh2 faster than OpenSSH', none, none, none, () => false);
    }
    const tb = JSON.parse(readFileSync(file, 'utf8')) as { knownHosts: string; hosts: { name: string; addr: string }[] };
    const addr = tb.hosts.find((h) => h.name === 'h1')!.addr;
    const key = '/home/mitouser1/.ssh/id_mitotest';
    const sshArgs = ['-o', `UserKnownHostsFile ${tb.knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'];
    const router = new Router();
    const ts: number[] = [];
    try {
      for (let i = 0; i < reps(5, 2); i++) {
        const t = performance.now();
        const ctx = await router.ssh({ hostname: addr, username: 'mitouser1', identityFile: key, sshArgs });
        await ctx.call(() => null);
        ts.push(performance.now() - t);
        await ctx.shutdown({ wait: true });
      }
    } finally { await router.shutdown(); }
    const raw: number[] = [];
    for (let i = 0; i < reps(5, 2); i++) {
      const t = performance.now();
      execFileSync('ssh', ['-o', 'BatchMode yes', '-o', 'LogLevel ERROR', '-i', key, ...sshArgs, '-l', 'mitouser1', addr, 'true']);
      raw.push(performance.now() - t);
    }
    const mit = mitogen('ssh', reps(5, 2), JSON.stringify({ hostname: addr, username: 'mitouser1', identity_file: key, ssh_args: sshArgs }));
    return figure('ssh', 'ssh (OpenSSH client): bootstrap + first call to a test host; ssh2 client: not built', 'faster than Mitogen; ssh2 faster than OpenSSH',
      stat(ts, 'ms'), stat(raw, 'ms'), mit, (r) => (r.vsMitogen ?? Infinity) < 1);
  },
};

function fmt(s: Side): string {
  if (!s) return '—';
  if ('notBuilt' in s) return 'not built';
  if ('error' in s) return `error: ${s.error}`;
  const d = s.median >= 100 ? 0 : s.median >= 10 ? 1 : 2;
  return `${s.median.toFixed(d)} ${s.unit} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;
}
const fx = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(2)}x`);

function markdown(meta: Record<string, string>, figs: Figure[]): string {
  const head = `Run ${meta.date} on ${meta.machine}; Node ${meta.node}; ${meta.mitogen}${meta.quick === 'true' ? ' (quick run)' : ''}. Medians, (min–max).\n\n`;
  const rows = figs.map((f) => `| ${f.title} | ${fmt(f.mitogenTs)} | ${fmt(f.floor)} | ${fmt(f.mitogen)} | ${fx(f.ratios.vsFloor)} | ${fx(f.ratios.vsMitogen)} | ${f.goal} | ${f.met === null ? '—' : f.met ? 'met' : 'missed'} |`);
  return `${head}| figure | mitogen-ts | floor | Mitogen | vs floor | vs Mitogen | goal | |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

async function main(): Promise<void> {
  const setup = spawnSync('bash', [here('./setup.sh')], { encoding: 'utf8' });
  if (setup.status !== 0) log(`bench: Mitogen is not available: ${setup.stderr.trim()}`);
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown cpu';
  const mitVersion = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'python3-mitogen'], { encoding: 'utf8' }).stdout || 'not installed';
  const pyVersion = spawnSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' }).stdout.trim();
  const meta = {
    date: new Date().toISOString(), machine: `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version, mitogen: `Mitogen ${mitVersion} on ${pyVersion}`, quick: String(quick),
  };
  const figs: Figure[] = [];
  for (const [id, run] of Object.entries(figures)) {
    if (only && !only.has(id)) continue;
    const t = performance.now();
    log(`bench: ${id}…`);
    try {
      const f = await run();
      figs.push(f);
      log(`  ${fmt(f.mitogenTs)} | floor ${fmt(f.floor)} | Mitogen ${fmt(f.mitogen)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    } catch (e) {
      figs.push({ id, title: id, goal: '', mitogenTs: { error: (e as Error).message }, floor: null, mitogen: null, ratios: {}, met: null });
      log(`  failed: ${(e as Error).message}`);
    }
  }
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify({ ...meta, quick, figures: figs }, null, 2)}\n`);
  const md = markdown(meta, figs);
  writeFileSync(join(resultsDir, 'latest.md'), md);
  process.stdout.write(md);
}

await main();
