/**
 * The halves of ctx.spawn that run inside the target context. Each function
 * travels by its source, so each is self-contained (and small: a call
 * carries its function's text). They share the context's live processes
 * through a registry on a global symbol, by the id the caller chose, so the
 * caller sends every operation at once: one that arrives before its process
 * has started waits for the start, or learns that it failed.
 *
 * A process runs in its own process group (detached: setsid), so kill() and
 * the context's exit reach a whole shell pipeline, not just its shell.
 * Output is taken with stream.read() only when the observe producer pulls,
 * which it does only while the caller's credit allows: unread output waits in
 * the pipe, and a fast producer blocks in write() instead of filling memory.
 */

// Types only: these functions travel by source and build their Outcomes as literals.
import type { Outcome } from '../wire/outcome.js';

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Uint8Array;
  killOnUnsubscribe?: boolean;
}

export interface ExitStatus { code: number | null; signal: string | null }

/** Why a process never started: its errno name and Node's message. */
export interface StartFailure { code: string; message: string }

/** What exit resolves with: the status, or why the process never started. */

type Which = 'stdout' | 'stderr';
interface Io { ended: boolean; discard: boolean; claimed: boolean; bytesRead: number; wake?: () => void }

/** What the context keeps per process. */
interface Entry {
  child: import('node:child_process').ChildProcess;
  killOnUnsubscribe: boolean;
  status?: ExitStatus;
  exitWaiters: ((s: ExitStatus) => void)[];
  exitFetched: boolean;
  closed: boolean;
  nextWrite: number;
  writes: Map<number, { data: Uint8Array | null; done: (e?: Error | null) => void }>;
  io: Record<Which, Io>;
  /** Drops the entry once nothing more can be asked of it. */
  forget(): void;
}

interface Registry {
  live: Map<string, Entry>;
  /** Operations that arrived before their process started, by id. */
  waiting: Map<string, ((e: Entry | StartFailure) => void)[]>;
  /** Processes that never started, for the operations still on their way (the latest 1000). */
  failed: Map<string, StartFailure>;
  exitHook?: boolean;
}

/** Starts the process and registers it under `id`; resolves with its pid once it runs, or with why it could not. */
export async function startThere(id: string, file: string, args: string[], opts: StartOptions): Promise<Outcome<number, StartFailure>> {
  const { spawn } = await import('node:child_process');
  // Everything it uses is in here: this function travels to the context by source.
  /*
   * A context killed outright (SIGKILL) runs no exit hook, so each process
   * gets a watchdog of its own: a shell in its own session that reads a pipe
   * only this context holds open and, at EOF — the context gone, however it
   * went — kills the process's group. It is killed itself when the process
   * exits first.
   */
  const watchdog = (child: import('node:child_process').ChildProcess): import('node:child_process').ChildProcess | undefined => {
    if (child.pid === undefined) return undefined;
    try {
      const w = spawn('/bin/sh', ['-c', 'read _ || kill -KILL "-$1" 2>/dev/null', 'mitogen-watchdog', String(child.pid)], {
        stdio: ['pipe', 'ignore', 'ignore'], detached: true,
      });
      w.on('error', () => { /* no /bin/sh: the exit hook is all there is */ });
      w.stdin!.on('error', () => {});
      w.unref();
      (w.stdin as unknown as { unref?(): void }).unref?.();
      return w;
    } catch {
      return undefined;
    }
  };
  const reg = ((globalThis as unknown as Record<symbol, Registry>)[Symbol.for('mitogen-ts.processes')] ??= { live: new Map(), waiting: new Map(), failed: new Map() });
  if (!reg.exitHook) {
    reg.exitHook = true;
    // The context is going: nothing it started may outlive it.
    process.on('exit', () => {
      for (const p of reg.live.values()) {
        if (p.status || !p.child.pid) continue;
        try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    });
  }
  if (reg.live.has(id)) throw new Error(`a process with id ${id} already exists in this context`);
  const settleWaiters = (result: Entry | StartFailure): void => {
    if (!('child' in result)) {
      reg.failed.set(id, result);
      if (reg.failed.size > 1000) reg.failed.delete(reg.failed.keys().next().value!);
    }
    const ws = reg.waiting.get(id) ?? [];
    reg.waiting.delete(id);
    for (const w of ws) w(result);
  };
  let child: import('node:child_process').ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: opts.cwd, env: opts.env ? { ...process.env, ...opts.env } : process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
    });
  } catch (e) {
    // Refused outright (a bad argument): the operations waiting for it must hear so too.
    const failure = { code: (e as NodeJS.ErrnoException).code ?? 'EINVAL', message: (e as Error).message };
    settleWaiters(failure);
    return { ok: false, why: failure };
  }
  const fresh = (): Io => ({ ended: false, discard: false, claimed: false, bytesRead: 0 });
  const entry: Entry = {
    child, killOnUnsubscribe: !!opts.killOnUnsubscribe, exitWaiters: [], exitFetched: false, closed: false,
    nextWrite: 0, writes: new Map(), io: { stdout: fresh(), stderr: fresh() },
    // Kept until its status was fetched and both streams were claimed: an empty
    // stream may end (and the process close) before its reader arrives.
    forget: () => { if (entry.closed && entry.exitFetched && entry.io.stdout.claimed && entry.io.stderr.claimed) reg.live.delete(id); },
  };
  for (const which of ['stdout', 'stderr'] as const) {
    const s = child[which]!;
    const io = entry.io[which];
    const wake = (): void => { const w = io.wake; io.wake = undefined; w?.(); };
    // A 'readable' listener from the start: without one Node discards unread
    // output when the process exits, before the caller's reader has arrived.
    s.on('readable', () => {
      if (io.discard) while (s.read() !== null) { /* dropping what nobody reads */ }
      wake();
    });
    for (const ev of ['end', 'error', 'close']) s.on(ev, () => { io.ended = true; wake(); });
  }
  child.stdin!.on('error', () => { /* EPIPE: the process closed its stdin; writes report it */ });
  child.on('error', () => { /* a failure to start is reported below */ });
  const guard = watchdog(child);
  child.on('exit', (code, signal) => {
    guard?.kill('SIGKILL');
    entry.status = { code, signal };
    for (const w of entry.exitWaiters.splice(0)) w(entry.status);
  });
  child.on('close', () => { entry.closed = true; entry.forget(); });
  return await new Promise<Outcome<number, StartFailure>>((resolve) => {
    child.once('spawn', () => {
      reg.live.set(id, entry);
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      settleWaiters(entry);
      resolve({ ok: true, value: child.pid! });
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      const failure = { code: e.code ?? 'EIO', message: e.message };
      settleWaiters(failure);
      resolve({ ok: false, why: failure });
    });
  });
}

/** The process's exit status, once it has exited (or why it never started). */
export async function exitThere(id: string): Promise<Outcome<ExitStatus, StartFailure>> {
  const reg = ((globalThis as unknown as Record<symbol, Registry>)[Symbol.for('mitogen-ts.processes')] ??= { live: new Map(), waiting: new Map(), failed: new Map() });
  const p = reg.live.get(id) ?? reg.failed.get(id) ?? await new Promise<Entry | StartFailure>((r) => { reg.waiting.set(id, [...reg.waiting.get(id) ?? [], r]); });
  if (!('child' in p)) return { ok: false, why: p };
  p.exitFetched = true;
  p.forget();
  return { ok: true, value: p.status ?? await new Promise<ExitStatus>((resolve) => p.exitWaiters.push(resolve)) };
}

/** Sends `signal` to the process's group; false when it had already exited. */
export function killThere(id: string, signal: string): boolean {
  const p = (globalThis as unknown as Record<symbol, Registry | undefined>)[Symbol.for('mitogen-ts.processes')]?.live.get(id);
  if (!p) throw new Error(`no process ${id} in this context`);
  if (p.status || !p.child.pid) return false;
  try {
    process.kill(-p.child.pid, signal as NodeJS.Signals);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    return p.child.kill(signal as NodeJS.Signals);
  }
  return true;
}

/**
 * Writes to stdin (`data` null: closes it). Writes carry a sequence number
 * and are applied in that order, whatever order the calls are run in.
 */
export function writeThere(id: string, seq: number, data: Uint8Array | null): Promise<void> {
  const p = (globalThis as unknown as Record<symbol, Registry | undefined>)[Symbol.for('mitogen-ts.processes')]?.live.get(id);
  if (!p) throw new Error(`no process ${id} in this context`);
  return new Promise<void>((resolve, reject) => {
    p.writes.set(seq, { data, done: (e) => (e ? reject(e) : resolve()) });
    for (let w = p.writes.get(p.nextWrite); w; w = p.writes.get(p.nextWrite)) {
      p.writes.delete(p.nextWrite++);
      const stdin = p.child.stdin!;
      const done = w.done;
      if (w.data === null) stdin.end(() => done());
      else if (stdin.writableEnded || stdin.destroyed) done(new Error('EPIPE: the process\'s stdin is closed'));
      else stdin.write(w.data, (e) => done(e));
    }
  });
}

/**
 * An iterator over stdout or stderr, pulled by the observe producer as
 * credit allows (empty if the process never started). Returned early (the
 * caller unsubscribed), it drops the rest, or kills with killOnUnsubscribe.
 */
export async function readThere(id: string, which: 'stdout' | 'stderr'): Promise<AsyncIterable<Uint8Array>> {
  const reg = ((globalThis as unknown as Record<symbol, Registry>)[Symbol.for('mitogen-ts.processes')] ??= { live: new Map(), waiting: new Map(), failed: new Map() });
  const p = reg.live.get(id) ?? reg.failed.get(id) ?? await new Promise<Entry | StartFailure>((r) => { reg.waiting.set(id, [...reg.waiting.get(id) ?? [], r]); });
  if (!('child' in p)) return { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };
  let finished = false;
  const io = p.io[which];
  if (io.claimed) throw new Error(`${which} of process ${id} is already being read`);
  io.claimed = true;
  p.forget();
  const s = p.child[which]!;
  const iterator: AsyncIterator<Uint8Array> = {
    async next(): Promise<IteratorResult<Uint8Array>> {
      for (;;) {
        if (finished) return { done: true, value: undefined };
        const chunk = s.read() as Buffer | null;
        if (chunk !== null) {
          io.bytesRead += chunk.byteLength;
          return { done: false, value: chunk };
        }
        if (io.ended || s.readableEnded) {
          finished = true;
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => { io.wake = resolve; });
      }
    },
    async return(): Promise<IteratorResult<Uint8Array>> {
      if (!finished) {
        finished = true;
        if (!io.ended) {
          if (p.killOnUnsubscribe && !p.status && p.child.pid) {
            try { process.kill(-p.child.pid, 'SIGTERM'); } catch { p.child.kill('SIGTERM'); }
          }
          io.discard = true;
          while (s.read() !== null) { /* the rest is nobody's */ }
        }
        const w = io.wake;
        io.wake = undefined;
        w?.();
      }
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

/** How many bytes of stdout/stderr the context has taken from the pipe (for tests and diagnostics). */
export function bytesReadThere(id: string): { stdout: number; stderr: number } | undefined {
  const p = (globalThis as unknown as Record<symbol, Registry | undefined>)[Symbol.for('mitogen-ts.processes')]?.live.get(id);
  return p ? { stdout: p.io.stdout.bytesRead, stderr: p.io.stderr.bytesRead } : undefined;
}
