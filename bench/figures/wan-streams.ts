/**
 * The WAN section: streams over a 20 ms round trip. The delay proxy
 * (lib/delay-proxy.ts, 10 ms each way) stands in front of test host h1's
 * sshd and the in-process ssh2 client connects through it. Measured: remote
 * Observable values/s for small integers and for 1 KiB values, `for await`
 * and `subscribe` (the floor of each: the same stream to a local child), the
 * proxy's raw TCP throughput (the link's own), and putFile/getFile against
 * scp through the same proxy.
 */
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Context, FlowStats, Router } from '../../src/index.js';
import { startProcess } from '../lib/delay-proxy.js';
import type { DelayProxy } from '../lib/delay-proxy.js';
import type { Env, FigureDef, Measured } from '../lib/figure.js';
import { hostScratch, makeFile, scp } from '../lib/host-scratch.js';
import { marker, repeat, sleep, stat, within } from '../lib/measure.js';
import { sshReadRate } from '../lib/ssh-ceiling.js';

const HOSTS = '/var/tmp/mitogen-testbed/ssh/hosts.json';
const KEY = '/home/mitouser1/.ssh/id_mitotest';
const USER = 'mitouser1';
const DELAY_MS = 10;
const MiB = 1 << 20;

/** h1's address, or why the section cannot run. */
function h1(): string | { skipped: string } {
  if (!existsSync(HOSTS) || !existsSync(KEY)) return { skipped: `the ssh test hosts are not up (${HOSTS}); npm test as root brings them up` };
  const tb = JSON.parse(readFileSync(HOSTS, 'utf8')) as { hosts: { name: string; addr: string }[] };
  return tb.hosts.find((h) => h.name === 'h1')?.addr ?? { skipped: `no host h1 in ${HOSTS}` };
}

/** A context on h1 through a fresh delay proxy (the proxy is closed when the router's figure ends). */
async function overWan(router: Router, addr: string): Promise<{ ctx: Context; proxy: DelayProxy }> {
  // In a process of its own: in this one it would share the main thread with the consumer measured.
  const proxy = await startProcess({ target: { host: addr, port: 22 }, delayMs: DELAY_MS });
  router.events.subscribe((e) => { if (e.type === 'shutdown') void proxy.close(); });
  // The host key is h1's, reached as 127.0.0.1:port: nothing to check it against; loopback only.
  const ctx = await within(router.ssh({
    hostname: '127.0.0.1', port: proxy.port, username: USER, identityFile: KEY, client: 'ssh2', checkHostKeys: 'ignore', compression: false,
  }), 60_000, 'ssh() through the delay proxy');
  return { ctx, proxy };
}

type Mode = 'await' | 'subscribe';

const median = (s: ReturnType<typeof stat>): number => (s?.kind === 'stat' ? s.median : Number.NaN);

/** What flow control did in the latest stream (for the notes). */
let lastFlow: FlowStats | undefined;

/** Values/s of an endless remote stream of small integers (size 0) or of `size`-byte values, over `ms` milliseconds. */
async function valuesPerSecond(ctx: Context, mode: Mode, size: number, ms: number): Promise<number> {
  const obs = size
    ? ctx.observe<unknown>(async function* (n: number) { const b = new Uint8Array(n).fill(1); for (;;) yield b; }, size)
    : ctx.observe<unknown>(async function* () { for (let i = 0; ; i++) yield i; });
  const t = performance.now();
  let n = 0;
  if (mode === 'await') {
    // Bounded by time; the generator is endless and ends with the loop.
    for await (const _ of obs) {
      if ((++n & 255) === 0 && performance.now() - t > ms) break;
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      const sub = obs.subscribe({
        next: () => { if ((++n & 255) === 0 && performance.now() - t > ms) { sub.unsubscribe(); resolve(); } },
        error: reject,
        complete: resolve,
      });
    });
  }
  lastFlow = { ...obs.stats };
  return n / ((performance.now() - t) / 1000);
}

/** The proxy's own throughput: `mib` MiB written through it to a local TCP sink, MiB/s. */
async function rawTcp(mib: number): Promise<number> {
  const total = mib * MiB;
  let arrived!: () => void;
  const all = new Promise<void>((r) => { arrived = r; });
  const sink = net.createServer((s) => { let n = 0; s.on('data', (c: Buffer) => { n += c.length; if (n >= total) arrived(); }); });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const proxy = await startProcess({ target: { host: '127.0.0.1', port: (sink.address() as net.AddressInfo).port }, delayMs: DELAY_MS });
  const c = net.connect(proxy.port, '127.0.0.1');
  try {
    await once(c, 'connect');
    const chunk = Buffer.alloc(MiB, 1);
    const t = performance.now();
    for (let i = 0; i < mib; i++) if (!c.write(chunk)) await once(c, 'drain');
    await within(all, 120_000, 'raw TCP through the proxy');
    return mib / ((performance.now() - t) / 1000);
  } finally {
    c.destroy();
    await proxy.close();
    sink.close();
  }
}

function streamFigure(id: string, mode: Mode, size: number): FigureDef {
  const what = size ? `${size / 1024} KiB values` : 'small integers';
  const unit = size ? 'MiB/s' : 'values/s';
  return {
    id,
    title: `remote Observable over a 20 ms round trip (ssh2 client, delay proxy): ${what}, ${mode === 'await' ? 'for await' : 'subscribe'}`,
    goal: size ? ">= 0.5x the link's raw TCP throughput (the floor)" : '>= 50,000 values/s and >= 0.5x the same stream to a local child (the floor)',
    seconds: 20,
    needs: ['floor'],
    met: (x) => (size ? x.vsFloor >= 0.5 : x.value >= 50_000 && x.vsFloor >= 0.5),
    async measure(env: Env): Promise<Measured> {
      const addr = h1();
      if (typeof addr !== 'string') { const none = marker('skipped', addr.skipped); return { mitogenTs: none, floor: none, mitogen: null }; }
      const ms = env.quick ? 600 : 2500;
      const reps = env.reps(3, 1);
      const router = env.router();
      const local = await within(router.local(), 60_000, 'local()');
      const { ctx, proxy } = await overWan(router, addr);
      const scale = (v: number): number => (size ? (v * size) / MiB : v);
      const wan: number[] = [];
      const near: number[] = [];
      // Untimed: the functions compiled and the JIT warm at both ends.
      await within(valuesPerSecond(ctx, mode, size, env.quick ? 150 : 300), 60_000, 'warm-up');
      await within(valuesPerSecond(local, mode, size, env.quick ? 150 : 300), 60_000, 'warm-up');
      let flow: FlowStats | undefined;
      await repeat(reps, env.deadline(), async () => {
        wan.push(scale(await within(valuesPerSecond(ctx, mode, size, ms), ms + 60_000, 'stream over the proxy')));
        flow = lastFlow;
        near.push(scale(await within(valuesPerSecond(local, mode, size, ms), ms + 60_000, 'stream to a local child')));
      });
      // The link's own throughput, sampled as often as the stream: one sample is as noisy as the machine.
      const raws: number[] = [];
      if (size) for (let i = 0; i < reps; i++) raws.push(await rawTcp(env.quick ? 32 : 256));
      const rawStat = stat(raws, 'MiB/s');
      const raw = size ? median(rawStat) : Number.NaN;
      const ceiling = size ? await within(sshReadRate(proxy.port, USER, KEY, env.quick ? 32 : 256), 180_000, 'ssh read through the proxy') : Number.NaN;
      const flowNote = flow ? ` The last stream over the proxy: ${flow.values} values in ${flow.frames} frames, ${flow.credits} credit messages, window ${(flow.window / MiB).toFixed(0)} MiB at the end.` : '';
      const localStat = stat(near, unit);
      const wanStat = stat(wan, unit);
      return {
        mitogenTs: wanStat,
        floor: size ? rawStat : localStat,
        mitogen: null,
        notes: [size
          ? `${id}: ${mode === 'await' ? 'for await' : 'subscribe'} over an endless stream of one ${size}-byte Uint8Array, through the delay proxy (${DELAY_MS} ms each way) to ${USER}@h1, ssh2 client, compression off; the floor is raw TCP written through the same proxy to a local sink (${env.quick ? 32 : 256} MiB); the same stream to a local child: median ${median(localStat).toFixed(0)} MiB/s; the ssh transport alone (ssh2 reading \`head -c\` from h1 through the same proxy, lib/ssh-ceiling.ts): ${ceiling.toFixed(0)} MiB/s, ${(ceiling / raw).toFixed(2)}x raw TCP, so this stream is ${(median(wanStat) / ceiling).toFixed(2)}x of what ssh carries.${flowNote}`
          : `${id}: ${mode === 'await' ? 'for await' : 'subscribe'} over an endless async generator of integers, through the delay proxy (${DELAY_MS} ms each way) to ${USER}@h1, ssh2 client, compression off; the floor is the same stream to a local child.${flowNote}`],
      };
    },
  };
}

export const wanValues = streamFigure('wan_values', 'await', 0);
export const wanValuesSub = streamFigure('wan_values_sub', 'subscribe', 0);
export const wanKib = streamFigure('wan_kib', 'await', 1024);
export const wanKibSub = streamFigure('wan_kib_sub', 'subscribe', 1024);

/**
 * Master RSS (MiB) before and at its peak while `mib` MiB of 1 MiB values
 * stream to a consumer that takes one value per 10 ms: it is slower than the
 * link, so the window, not the stream's length, bounds what waits here.
 */
async function rssGrowth(ctx: Context, mib: number): Promise<{ base: number; peak: number; window: number }> {
  const obs = ctx.observe<Uint8Array>(async function* (count: number) { const b = new Uint8Array(1 << 20).fill(3); for (let i = 0; i < count; i++) yield b; }, mib);
  const base = process.memoryUsage().rss;
  let peak = base;
  let n = 0;
  for await (const v of obs) {
    if (v.byteLength !== MiB) throw new Error(`a ${v.byteLength}-byte value in a stream of 1 MiB values`);
    n++;
    peak = Math.max(peak, process.memoryUsage().rss);
    await sleep(10);
  }
  if (n !== mib) throw new Error(`${n} values of ${mib}`);
  return { base: base / MiB, peak: peak / MiB, window: obs.stats.window / MiB };
}

export const wanMemory: FigureDef = {
  id: 'wan_memory',
  title: 'remote Observable over a 20 ms round trip: master peak RSS with a consumer taking one 1 MiB value per 10 ms (floor: its RSS before the stream)',
  goal: 'peak <= the RSS before + the window (4 MiB) + 16 MiB',
  seconds: 60,
  needs: ['floor'],
  // The floor is the RSS before: value - floor is the growth.
  met: (x) => x.value - x.value / x.vsFloor <= 4 + 16,
  async measure(env) {
    const addr = h1();
    if (typeof addr !== 'string') { const none = marker('skipped', addr.skipped); return { mitogenTs: none, floor: none, mitogen: null }; }
    const mib = env.quick ? 64 : 1024;
    const router = env.router();
    const local = await within(router.local(), 60_000, 'local()');
    const { ctx } = await overWan(router, addr);
    // Untimed warm-up at both ends, so the baseline holds the codec, the buffers and the compiled functions.
    await within(rssGrowth(ctx, 16), 120_000, 'warm-up');
    await within(rssGrowth(local, 16), 120_000, 'warm-up');
    const wan = await within(rssGrowth(ctx, mib), mib * 1000 + 120_000, 'stream over the proxy');
    const near = await within(rssGrowth(local, mib), mib * 1000 + 120_000, 'stream to a local child');
    return {
      mitogenTs: stat([wan.peak], 'MiB'), floor: stat([wan.base], 'MiB'), mitogen: null,
      notes: [`wan_memory: ${mib} MiB as 1 MiB values, for await with a 10 ms pause per value, through the delay proxy to ${USER}@h1 (ssh2 client), default window; RSS sampled at every value, no forced GC; growth over the proxy ${(wan.peak - wan.base).toFixed(2)} MiB (the window ended at ${wan.window} MiB), and ${(near.peak - near.base).toFixed(2)} MiB for the same stream to a local child.`],
    };
  },
};

export const wanFiles: FigureDef = {
  id: 'wan_files',
  title: 'file transfer over a 20 ms round trip (ssh2 client, delay proxy): putFile to h1',
  goal: '>= 1.5x scp through the same proxy (getFile against scp back: in the notes)',
  seconds: 30,
  needs: ['floor'],
  met: (x) => x.vsFloor >= 1.5,
  async measure(env) {
    const addr = h1();
    if (typeof addr !== 'string') { const none = marker('skipped', addr.skipped); return { mitogenTs: none, floor: none, mitogen: null }; }
    const mib = env.quick ? 8 : 64;
    const reps = env.reps(3, 1);
    // The test host shares this filesystem; its user writes into a directory of its own.
    const { dir, out, src } = hostScratch('mitogen-ts-bench-wan-', USER);
    try {
      makeFile(src, mib);
      chmodSync(src, 0o644);
      const router = env.router();
      const { ctx, proxy } = await overWan(router, addr);
      const sshOpts = ['-q', '-i', KEY, '-P', String(proxy.port), '-o', 'BatchMode yes', '-o', 'StrictHostKeyChecking no', '-o', 'UserKnownHostsFile /dev/null', '-o', 'LogLevel ERROR'];
      const remote = (name: string): string => `${USER}@127.0.0.1:${join(out, name)}`;
      const rate = (t: number): number => mib / ((performance.now() - t) / 1000);
      const put: number[] = [];
      const get: number[] = [];
      const scpUp: number[] = [];
      const scpDown: number[] = [];
      await within(ctx.putFile(src, join(out, 'put.bin')), 300_000, 'putFile');
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        await within(ctx.putFile(src, join(out, 'put.bin')), 300_000, 'putFile');
        put.push(rate(t));
        t = performance.now();
        await within(ctx.getFile(join(out, 'put.bin'), join(dir, 'got.bin')), 300_000, 'getFile');
        get.push(rate(t));
        t = performance.now();
        await scp([...sshOpts, src, remote('scp.bin')], 300_000);
        scpUp.push(rate(t));
        t = performance.now();
        await scp([...sshOpts, remote('scp.bin'), join(dir, 'scp-back.bin')], 300_000);
        scpDown.push(rate(t));
      });
      const g = stat(get, 'MiB/s');
      const d = stat(scpDown, 'MiB/s');
      const med = (s: typeof g): string => (s?.kind === 'stat' ? s.median.toFixed(1) : '?');
      return {
        mitogenTs: stat(put, 'MiB/s'), floor: stat(scpUp, 'MiB/s'), mitogen: null,
        notes: [`wan_files: ${mib} MiB of random bytes to ${USER}@h1 through the delay proxy (${DELAY_MS} ms each way), ssh2 client, compression off; the floor is scp (OpenSSH) through the same proxy. getFile back: median ${med(g)} MiB/s against scp back ${med(d)} MiB/s (${g?.kind === 'stat' && d?.kind === 'stat' ? (g.median / d.median).toFixed(2) : '?'}x).`],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
