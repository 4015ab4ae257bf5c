/**
 * The floor of this machine: what the things mitogen-ts is built from cost
 * with nothing on top — a bare node start, a framed ping-pong over a child's
 * stdio pipe, the design's own path with no runtime on it (design-floor.cjs:
 * two thread hops and the pipe on each side), 1 MiB frames through the pipe,
 * an idle node's memory (bare, and with one idle worker), and a worker
 * thread's start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sleep, within } from '../lib/measure.js';

const echoChild = fileURLToPath(new URL('./echo-child.cjs', import.meta.url));

/** How the design floor's thread hop is made (design-floor.cjs says what each is). */
export type Hop = 'port' | 'transfer' | 'channel' | 'sab' | 'batch' | 'direct';
export const HOPS: readonly Hop[] = ['port', 'transfer', 'channel', 'sab', 'batch', 'direct'];
export const HOP_TEXT: Record<Hop, string> = {
  port: "the Worker's own port (worker.postMessage / parentPort)",
  transfer: "the Worker's own port, each frame's ArrayBuffer transferred (as mitogen-ts does) instead of copied",
  channel: 'a dedicated MessageChannel port',
  sab: 'a SharedArrayBuffer ring each way + Atomics.waitAsync',
  batch: "the Worker's own port, what a thread sends in one turn in one postMessage (and one pipe write)",
  direct: "no worker in the child (its main thread owns its stdio; the master's side as the Worker's own port): a design with two hops fewer, for comparison",
};

/**
 * The design floor (floor/design-floor.cjs): master main → its worker → pipe → the child's
 * worker → the child's main and back, 64-byte frames, no codec, no router. `ping()` is one
 * round trip; `burst(k)` k frames in flight at once.
 */
export interface DesignFloor {
  mode: Hop;
  ping(): Promise<void>;
  burst(k: number): Promise<void>;
  /** With `stamps`: one round trip, µs per hop (main → worker, pipe, worker → main, main → worker, pipe, worker → main). */
  hops(): Promise<number[]>;
  close(): Promise<number>;
}
interface DesignFloorOpts { stamps?: boolean }
const designFloorCjs = createRequire(import.meta.url)('./design-floor.cjs') as { start(mode: Hop, opts?: DesignFloorOpts): Promise<DesignFloor> };
export const startDesignFloor = (mode: Hop = 'port', opts: DesignFloorOpts = {}): Promise<DesignFloor> =>
  within(designFloorCjs.start(mode, opts), 30_000, `design floor (${mode}) start`);

/** `node -e 0`: spawn to exit, ms. */
export async function nodeStart(): Promise<number> {
  const t = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await within(new Promise((r) => child.once('exit', r)), 30_000, 'node -e 0');
  return performance.now() - t;
}

/** Counts length-prefixed frames in a byte stream without copying their payloads (the pipe's floor, not a codec's). */
class FrameCounter {
  private head = Buffer.alloc(4);
  private headGot = 0;
  private left = -1; // payload bytes still to come; -1 while reading a header

  /** Feeds a chunk and returns how many frames it completed. */
  feed(d: Buffer): number {
    let done = 0;
    for (let i = 0; i < d.length;) {
      if (this.left < 0) {
        const n = Math.min(4 - this.headGot, d.length - i);
        d.copy(this.head, this.headGot, i, i + n);
        this.headGot += n;
        i += n;
        if (this.headGot === 4) { this.left = this.head.readUInt32BE(0); this.headGot = 0; }
      } else {
        const n = Math.min(this.left, d.length - i);
        i += n;
        this.left -= n;
      }
      if (this.left === 0) { done++; this.left = -1; }
    }
    return done;
  }
}

/** A node child speaking length-prefixed frames on its stdio (floor/echo-child.cjs). */
export class PipeChild {
  private frames = 0;
  private want = 0;
  private wake: (() => void) | undefined;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    const counter = new FrameCounter();
    child.stdout.on('data', (d: Buffer) => {
      this.frames += counter.feed(d);
      if (this.wake && this.frames >= this.want) { const w = this.wake; this.wake = undefined; w(); }
    });
  }

  /** 'echo' answers each frame with itself; 'source' answers a count N with N frames of 1 MiB. */
  static async start(mode: 'echo' | 'source'): Promise<PipeChild> {
    const child = spawn(process.execPath, [echoChild, ...(mode === 'source' ? ['source'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    const p = new PipeChild(child);
    // One exchange before any timing: the child is up and its stream is reading.
    await within(mode === 'echo' ? p.ping() : p.pull(1), 30_000, `floor ${mode} child start`);
    return p;
  }

  private until(frames: number, send: Buffer): Promise<void> {
    this.want = this.frames + frames;
    return new Promise<void>((resolve) => { this.wake = resolve; this.child.stdin.write(send); });
  }

  private static readonly ping64 = (() => { const b = Buffer.alloc(4 + 64, 1); b.writeUInt32BE(64, 0); return b; })();

  /** One round trip of a 64-byte frame. */
  ping(): Promise<void> { return this.until(1, PipeChild.ping64); }

  /** Asks for `n` frames of 1 MiB and resolves when the last has arrived. */
  pull(n: number): Promise<void> {
    const req = Buffer.alloc(8);
    req.writeUInt32BE(4, 0);
    req.writeUInt32BE(n, 4);
    return this.until(n, req);
  }

  /** The child's process id (for per-thread counters). */
  get pid(): number { return this.child.pid!; }

  close(): void { this.child.stdin.end(); this.child.kill(); }
}

/** VmRSS of a process, MiB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** An idle bare node's RSS, MiB, `settleMs` after it is up; `worker`: with one idle worker thread started (and up) first. */
export async function bareNodeRss(settleMs: number, worker = false): Promise<number> {
  // It reports being up with fs.writeSync (fs is loaded at bootstrap anyway), not
  // process.stdout, whose stream would add to the memory being measured.
  const up = "require('fs').writeSync(1, 'up\\n'); setInterval(() => {}, 1e9)";
  const withWorker = `const w = new (require('worker_threads').Worker)("require('worker_threads').parentPort.postMessage(1); setInterval(() => {}, 1e9)", { eval: true }); w.once('message', () => { ${up} })`;
  const child = spawn(process.execPath, ['-e', worker ? withWorker : up], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await within(new Promise((r) => child.stdout.once('data', r)), 30_000, 'bare node start');
    await sleep(settleMs);
    return rssMb(child.pid!);
  } finally { child.kill(); }
}

/** `new Worker` until its first message has come back, ms. */
export async function workerStart(): Promise<number> {
  const t = performance.now();
  const w = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (m) => parentPort.postMessage(m));", { eval: true });
  try {
    await within(new Promise<void>((r) => { w.once('message', () => r()); w.postMessage(1); }), 30_000, 'worker start');
    return performance.now() - t;
  } finally { await w.terminate(); }
}
