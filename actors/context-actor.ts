/**
 * ContextActor: starts one child context and carries it through the
 * bootstrap, inside the broker worker that will own its pipes.
 *
 * Stages, each marked by a line the child prints on stdout:
 *   spawned     the command started (a shell, sudo, ssh... may print first)
 *   MITO000     the first stage runs and waits for the runtime on stdin
 *   MITO001     the runtime was read and is being started
 *   MITO002     the child's broker owns its fds: binary frames follow
 * A failure names the last stage reached and quotes what the target printed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EofError, StreamError, TimeoutError } from '../src/errors.js';
import type { ChildConfig, ConnectResult, ConnectSpec } from '../src/bootstrap-types.js';
import { StreamActor } from './stream-actor.js';
import type { StreamEvents } from './stream-actor.js';

const MARKERS = ['MITO000', 'MITO001', 'MITO002'] as const;
const STAGE_TEXT = [
  'the command started but the first stage never ran',
  'the first stage ran but the runtime was not read',
  'the runtime was read but did not start',
];
const KEPT_LINES = 100;

export interface ConnectDeps {
  /** The compressed runtime payload this context forwards to its children. */
  payload: Uint8Array;
  myId: number;
  parentIds: number[];
  streamEvents: StreamEvents;
  /** A line the child wrote to stderr (after or during the bootstrap). */
  onStderr(name: string, line: string): void;
}

export interface Connected {
  stream: StreamActor;
  result: ConnectResult;
  child: ChildProcess;
}

/** Keeps the last N lines of text a target printed, for error messages. */
class LineTail {
  private lines: string[] = [];
  private partial = '';
  push(text: string, onLine?: (line: string) => void): void {
    const parts = (this.partial + text).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      onLine?.(line);
      this.lines.push(line);
      if (this.lines.length > KEPT_LINES) this.lines.shift();
    }
  }
  text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-KEPT_LINES).join('\n');
  }
}

export function connectChild(spec: ConnectSpec, deps: ConnectDeps): Promise<Connected> {
  return new Promise<Connected>((resolve, reject) => {
    const [file, ...args] = spec.argv;
    if (!file) {
      reject(new StreamError('cannot connect: empty argv'));
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: spec.env ? { ...process.env, ...spec.env } : process.env,
        windowsHide: true,
      });
    } catch (e) {
      reject(new StreamError(`could not start ${file}: ${(e as Error).message}`));
      return;
    }
    let name = spec.name ?? `${spec.method}.${child.pid ?? 'unknown'}`;
    let stage = 0;
    let settled = false;
    let prelude: Buffer = Buffer.alloc(0);
    const tail = new LineTail();
    const stderrTail = new LineTail();
    let booted = false;

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(err);
    };
    const printed = (): string => {
      const out = tail.text();
      const err = stderrTail.text();
      return [out, err].filter(Boolean).join('\n');
    };

    const timer = setTimeout(() => {
      fail(new TimeoutError(`Failed to setup connection after ${spec.connectTimeout} seconds: ${name}: bootstrap stopped at stage ${stage} (${STAGE_TEXT[stage]}); last ${KEPT_LINES} lines received:\n${printed()}`));
    }, spec.connectTimeout * 1000);

    child.on('error', (e: NodeJS.ErrnoException) => {
      fail(new StreamError(`${name}: could not start ${file}: ${e.code === 'ENOENT' ? `no such file or directory (${file})` : e.message}`));
    });

    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (booted) stderrTail.push(text, (line) => deps.onStderr(name, line));
      else stderrTail.push(text);
    });

    child.on('close', (code, signal) => {
      if (settled) return;
      const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
      fail(new EofError(`EOF on stream; last ${KEPT_LINES} lines received:\n${printed()}\n(${name}: ${file} ${how}; bootstrap stopped at stage ${stage}: ${STAGE_TEXT[stage]})`));
    });

    child.stdin!.on('error', () => { /* EPIPE: the 'close' path reports what happened */ });

    const onPreludeData = (chunk: Buffer): void => {
      if (settled) return;
      prelude = prelude.length ? Buffer.concat([prelude, chunk]) : chunk;
      // Markers arrive in order; anything else printed is kept for errors.
      for (;;) {
        const nl = prelude.indexOf(10);
        if (nl < 0) return;
        const line = prelude.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        prelude = prelude.subarray(nl + 1);
        const m = MARKERS.indexOf(line as (typeof MARKERS)[number]);
        if (m < 0) { tail.push(line + '\n'); continue; }
        stage = m + 1;
        if (m === 2) { onBooted(); return; }
      }
    };
    child.stdout!.on('data', onPreludeData);

    const onBooted = (): void => {
      child.stdout!.off('data', onPreludeData);
      settled = true;
      booted = true;
      clearTimeout(timer);
      const stream = new StreamActor(child.stdout!, child.stdin!, {
        remoteId: spec.contextId, name, maxMessageSize: spec.maxMessageSize,
      }, deps.streamEvents);
      stream.pid = child.pid;
      if (prelude.length) stream.feed(prelude);
      resolve({ stream, child, result: { contextId: spec.contextId, name, pid: child.pid ?? 0 } });
    };

    child.on('spawn', () => {
      name = spec.name ?? `${spec.method}.${child.pid}`;
      const config: ChildConfig = {
        contextId: spec.contextId,
        parentIds: [deps.myId, ...deps.parentIds],
        name,
        maxMessageSize: spec.maxMessageSize,
        debug: spec.debug,
        profiling: spec.profiling,
        unidirectional: spec.unidirectional,
      };
      const configBytes = Buffer.from(JSON.stringify(config));
      const head = Buffer.alloc(4);
      head.writeUInt32BE(deps.payload.byteLength);
      const mid = Buffer.alloc(4);
      mid.writeUInt32BE(configBytes.byteLength);
      child.stdin!.write(Buffer.concat([head, deps.payload, mid, configBytes]));
    });
  });
}
