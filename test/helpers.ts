/** Shared test helpers: real processes only, bounded waits only. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { logRecords, Router } from '../src/index.js';
import type { Context, LogRecord } from '../src/index.js';

export const fixturesDir = fileURLToPath(new URL('./fixtures/', import.meta.url));

/**
 * A nodePath that runs node in a private mount namespace where `dir` is an
 * empty tmpfs: the child cannot see those files, so they must be forwarded.
 * Needs root (CI and the test set-up run as root).
 */
export function hidingNodePath(dir: string): string[] {
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t tmpfs none '${dir}' && exec node "$@"`, 'sh'];
}

/** A Router that is shut down when the test ends, whatever happens. */
export function routerFor(t: ExecutionContext): Router {
  const router = new Router();
  t.teardown(() => router.shutdown());
  return router;
}

/** A router (shut down when the test ends), a local child, and a grandchild reached through it. */
export async function grandchildFor(t: ExecutionContext): Promise<{ router: Router; child: Context; grandchild: Context }> {
  const router = routerFor(t);
  const child = await router.local();
  const grandchild = await router.local({ via: child });
  return { router, child, grandchild };
}

/** A fresh directory in the system's temporary one, named `prefix…`, removed with all it holds when the test ends. */
export function tempDirFor(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every log record the master emits until the test ends. */
export function collectLogs(t: ExecutionContext): LogRecord[] {
  const records: LogRecord[] = [];
  const sub = logRecords.subscribe((r) => records.push(r));
  t.teardown(() => sub.unsubscribe());
  return records;
}

/** True while the process exists and is not a zombie. EPERM means it exists but is not ours to signal: alive. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

/** The pid in a bootstrap error's context name (`local.<pid>: bootstrap stopped…`): the child that failed to boot. */
export function bootstrapPid(message: string): number {
  const m = /: \w+\.(\d+): bootstrap stopped/.exec(message);
  if (!m) throw new Error(`no context name in: ${message}`);
  return Number(m[1]);
}

/** Polls `cond` every 20 ms until it holds, or fails after `seconds` (a bound, not a sleep). */
export async function waitUntil(cond: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Shuts `ctx` down with `{ wait: true }`, then waits (bounded) until its
 * process is reaped, as Mitogen's tests wait for the child before checking it
 * is gone. Returns the pid it had.
 */
export async function shutdownReaped(ctx: Context): Promise<number> {
  const pid = await ctx.call(() => process.pid);
  await ctx.shutdown({ wait: true });
  await waitUntil(() => !existsSync(`/proc/${pid}`), 10, `process ${pid} is reaped`);
  return pid;
}

export const isRoot = process.getuid?.() === 0;

/** The process went away between listing and reading: not a failure. */
function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** This process's descendants, from every process's parent in /proc/<pid>/stat. */
function descendants(pids: readonly string[]): Set<string> {
  const children = new Map<string, string[]>();
  for (const pid of pids) {
    let stat: string;
    try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { continue; /* gone */ }
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out = new Set<string>();
  const todo = [String(process.pid)];
  while (todo.length) for (const c of children.get(todo.pop()!) ?? []) if (!out.has(c)) { out.add(c); todo.push(c); }
  return out;
}

/**
 * Every process's argv and environment, as text: where a secret must never appear.
 * A process this one started (a login tool, a context) that cannot be read throws:
 * a secrecy check that skipped it would pass without looking (run as root, which
 * reads them all). Other processes cannot carry a secret this test made, and some
 * (kernel threads, a more privileged init) are unreadable even to root: those are skipped.
 */
export function processTexts(): string[] {
  const out: string[] = [];
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const ours = descendants(pids);
  for (const pid of pids) {
    for (const f of ['cmdline', 'environ']) {
      try {
        out.push(readFileSync(`/proc/${pid}/${f}`, 'latin1'));
      } catch (e) {
        if (isGone(e) || !ours.has(pid)) continue;
        throw new Error(`cannot read /proc/${pid}/${f} (${(e as NodeJS.ErrnoException).code}): the secrecy check would not see this process`);
      }
    }
  }
  return out;
}

/**
 * Samples every process's argv and environment every 10 ms until stop(): the
 * secret must show in none. `isTool` picks the login's own process by its argv
 * (sudo, ssh, sshd's session); toolSeen counts samples that caught it running,
 * so sampling that only ever ran before or after the login shows as such.
 */
export function sampleProcesses(secret: string, isTool: (argv: string[]) => boolean): { stop(): { samples: number; toolSeen: number; leaks: string[] } } {
  let samples = 0;
  let toolSeen = 0;
  const leaks: string[] = [];
  const sample = (): void => {
    samples++;
    let sawTool = false;
    for (const text of processTexts()) {
      if (text.includes(secret) && leaks.length < 10) leaks.push(text.slice(0, 200));
      if (isTool(text.split('\0'))) sawTool = true;
    }
    if (sawTool) toolSeen++;
  };
  sample();
  const timer = setInterval(sample, 10);
  let stopped = false;
  return {
    stop() {
      if (!stopped) { stopped = true; clearInterval(timer); sample(); }
      return { samples, toolSeen, leaks };
    },
  };
}
