/** The floor of this machine: what a bare node start and a raw pipe cost. */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const echoChild = fileURLToPath(new URL('./floor/echo-child.cjs', import.meta.url));

/** `node -e 0`: spawn to exit, ms. */
export function nodeStart(reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    out.push(performance.now() - t);
  }
  return out;
}

/** Sequential ping-pong of a small length-prefixed frame over a node child's stdio, µs per round trip. */
export async function rawPipeRtt(reps: number): Promise<number[]> {
  const child = spawn(process.execPath, [echoChild], { stdio: ['pipe', 'pipe', 'inherit'] });
  const frame = Buffer.alloc(4 + 64, 1);
  frame.writeUInt32BE(64, 0);
  const out: number[] = [];
  let pending: (() => void) | undefined;
  let got = 0;
  child.stdout.on('data', (d: Buffer) => { got += d.length; if (got >= frame.length) { got -= frame.length; pending?.(); } });
  const once = () => new Promise<void>((r) => { pending = r; child.stdin.write(frame); });
  for (let i = 0; i < 200; i++) await once();
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await once();
    out.push((performance.now() - t) * 1000);
  }
  child.kill();
  return out;
}

/** 1 MiB frames from a node child over a pipe, MB/s. */
export async function rawPipeThroughput(reps: number, frames = 200): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const child = spawn(process.execPath, [echoChild, 'source', String(frames)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const want = frames * (4 + (1 << 20));
    let got = 0;
    const t = performance.now();
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => { got += d.length; if (got >= want) resolve(); });
      child.stdin.write('go');
    });
    out.push((frames * (1 << 20)) / ((performance.now() - t) / 1000) / 1e6);
    child.kill();
  }
  return out;
}

/** A bare idle node: RSS in MB. */
export async function bareNodeRss(reps: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const child = spawn(process.execPath, ['-e', "process.stdout.write('up\\n'); setInterval(() => {}, 1e9)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    await new Promise((r) => setTimeout(r, 200)); // settle, as for the other figures' children
    out.push(rssMb(child.pid!));
    child.kill();
  }
  return out;
}

/** `new Worker` + first message round trip, ms. */
export async function workerStart(reps: number): Promise<number[]> {
  const { Worker } = await import('node:worker_threads');
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const w = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))", { eval: true });
    await new Promise<void>((r) => { w.once('message', () => r()); w.postMessage(1); });
    out.push(performance.now() - t);
    await w.terminate();
  }
  return out;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
