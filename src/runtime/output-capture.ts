/**
 * In a child, fd 1 carries the protocol. User output must never reach it:
 * process.stdout, process.stderr and console are replaced by streams that
 * turn each line into a log record for the master. Workers started by user
 * code pipe their output into these too (Node pipes a worker's stdout into
 * the parent thread's process.stdout).
 */
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import type { LogLevel } from './log.js';

export type LineSink = (level: LogLevel, text: string) => void;

class LineStream extends Writable {
  private partial = '';
  private flushScheduled = false;
  isTTY = false;

  constructor(private readonly level: LogLevel, private readonly sink: LineSink) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.sink(this.level, line);
    if (this.partial && !this.flushScheduled) {
      // A write without a newline still shows, at the end of this turn.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (this.partial) { this.sink(this.level, this.partial); this.partial = ''; }
      });
    }
    cb();
  }
}

export function captureOutput(sink: LineSink): void {
  const out = new LineStream('info', sink);
  const err = new LineStream('warn', sink);
  if (isMainThread) {
    Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => out });
    Object.defineProperty(process, 'stderr', { configurable: true, enumerable: true, get: () => err });
  } else {
    // In a worker thread (a fork) process.stdout is Node's own stream, which the
    // parent thread's flow control talks to: keep the object, divert its writes.
    for (const [stream, to] of [[process.stdout, out], [process.stderr, err]] as const) {
      (stream as { write: unknown }).write = (chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => to.write(chunk, enc as BufferEncoding, cb as () => void);
    }
  }
  const replacement = new Console({ stdout: out, stderr: err, colorMode: false });
  Object.defineProperty(globalThis, 'console', { configurable: true, writable: true, value: replacement });
}
