/**
 * The halves of ctx.spawn that run inside the target context. Each function
 * travels by its source, so each is self-contained: they share state through
 * one registry on a global symbol (the context's live processes, by the id
 * the caller chose).
 *
 * A process runs in its own process group (detached: setsid), so kill() and
 * the context's exit reach a whole shell pipeline, not just its shell.
 * Output is read with stream.read() only while the caller's credit allows
 * (the observe protocol pulls these iterators): unread output waits in the
 * pipe, and a fast producer blocks in write() instead of filling memory.
 */

/** What the context keeps per process (the shape the functions below share). */
export interface ProcessEntry {
  child: import('node:child_process').ChildProcess;
  killOnUnsubscribe: boolean;
  status?: { code: number | null; signal: string | null };
  exitWaiters: ((s: { code: number | null; signal: string | null }) => void)[];
  exitFetched: boolean;
  closed: boolean;
  forget: () => void;
  nextWrite: number;
  writes: Map<number, { data: Uint8Array | null; done: (e?: Error | null) => void }>;
  io: Record<'stdout' | 'stderr', { ended: boolean; discard: boolean; claimed: boolean; bytesRead: number; wake?: () => void }>;
}

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Uint8Array;
  killOnUnsubscribe?: boolean;
}

export type StartResult = { pid: number } | { error: { code: string; message: string } };

/** Starts the process and registers it under `id`; resolves once it runs, or with why it could not. */
export async function startThere(id: string, file: string, args: string[], opts: StartOptions): Promise<StartResult> {
  const { spawn } = await import('node:child_process');
  const g = globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>;
  const KEY = Symbol.for('mitogen-ts.processes');
  let procs = g[KEY];
  if (!procs) {
    const registry = (procs = g[KEY] = new Map<string, ProcessEntry>());
    // The context is going: nothing it started may outlive it.
    process.on('exit', () => {
      for (const p of registry.values()) {
        if (p.status || !p.child.pid) continue;
        try { process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    });
  }
  if (procs.has(id)) throw new Error(`a process with id ${id} already exists in this context`);
  const child = spawn(file, args, {
    cwd: opts.cwd, env: opts.env ? { ...process.env, ...opts.env } : process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true,
  });
  const entry: ProcessEntry = {
    child, killOnUnsubscribe: !!opts.killOnUnsubscribe, exitWaiters: [], exitFetched: false, closed: false, forget: () => {}, nextWrite: 0, writes: new Map(),
    io: { stdout: { ended: false, discard: false, claimed: false, bytesRead: 0 }, stderr: { ended: false, discard: false, claimed: false, bytesRead: 0 } },
  };
  const registry = procs;
  // Kept until its status was fetched and both streams were claimed: an empty
  // stream may end (and the process close) before its reader arrives.
  const forget = (): void => { if (entry.closed && entry.exitFetched && entry.io.stdout.claimed && entry.io.stderr.claimed) registry.delete(id); };
  entry.forget = forget;
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
    s.on('end', () => { io.ended = true; wake(); });
    s.on('error', () => { io.ended = true; wake(); });
    s.on('close', () => { io.ended = true; wake(); });
  }
  child.stdin!.on('error', () => { /* EPIPE: the process closed its stdin; writes report it */ });
  child.on('exit', (code, signal) => {
    entry.status = { code, signal };
    for (const w of entry.exitWaiters.splice(0)) w(entry.status);
  });
  child.on('close', () => { entry.closed = true; forget(); });
  return await new Promise<StartResult>((resolve) => {
    child.once('spawn', () => {
      procs!.set(id, entry);
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      resolve({ pid: child.pid! });
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (child.pid === undefined) resolve({ error: { code: e.code ?? 'EIO', message: e.message } });
    });
  });
}

/** The process's exit status, once it has exited. */
export function exitThere(id: string): Promise<{ code: number | null; signal: string | null }> | { code: number | null; signal: string | null } {
  const procs = (globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>)[Symbol.for('mitogen-ts.processes')];
  const p = procs?.get(id);
  if (!p) throw new Error(`no process ${id} in this context`);
  p.exitFetched = true;
  p.forget();
  if (p.status) return p.status;
  return new Promise((resolve) => p.exitWaiters.push(resolve));
}

/** Sends `signal` to the process's group; false when it had already exited. */
export function killThere(id: string, signal: string): boolean {
  const p = (globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>)[Symbol.for('mitogen-ts.processes')]?.get(id);
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
  const p = (globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>)[Symbol.for('mitogen-ts.processes')]?.get(id);
  if (!p) throw new Error(`no process ${id} in this context`);
  return new Promise<void>((resolve, reject) => {
    p.writes.set(seq, { data, done: (e) => (e ? reject(e) : resolve()) });
    for (let w = p.writes.get(p.nextWrite); w; w = p.writes.get(p.nextWrite)) {
      p.writes.delete(p.nextWrite++);
      const stdin = p.child.stdin!;
      if (w.data === null) {
        stdin.end(() => w!.done());
      } else if (stdin.writableEnded || stdin.destroyed) {
        w.done(new Error('EPIPE: the process\'s stdin is closed'));
      } else {
        const done = w.done;
        stdin.write(w.data, (e) => done(e));
      }
    }
  });
}

/**
 * An iterator over stdout or stderr, pulled by the observe producer as
 * credit allows. Returning it early (the caller unsubscribed) drops the rest
 * of the stream, or kills the process with killOnUnsubscribe.
 */
export function readThere(id: string, which: 'stdout' | 'stderr'): AsyncIterable<Uint8Array> {
  const p = (globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>)[Symbol.for('mitogen-ts.processes')]?.get(id);
  if (!p) throw new Error(`no process ${id} in this context`);
  const io = p.io[which];
  if (io.claimed) throw new Error(`${which} of process ${id} is already being read`);
  io.claimed = true;
  p.forget();
  const s = p.child[which]!;
  let finished = false;
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
  const p = (globalThis as unknown as Record<symbol, Map<string, ProcessEntry> | undefined>)[Symbol.for('mitogen-ts.processes')]?.get(id);
  return p ? { stdout: p.io.stdout.bytesRead, stderr: p.io.stderr.bytesRead } : undefined;
}
