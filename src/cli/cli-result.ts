/**
 * A host's outcome, from fanOut's events: its row of the summary (and its
 * --json object), the status the command line exits with, and the
 * --failed-file that reruns what did not succeed.
 */
import { CallError } from '../wire/errors.js';
import type { Target } from './cli-target.js';
import type { HostResult } from './cli-output.js';
import { CommandFailed } from './cli-work.js';
import type { ExecResult } from './cli-work.js';

/** What `fn` resolved with in a target: the command's exit, or the module's return value. */
export type Outcome = { kind: 'exec'; exec: ExecResult } | { kind: 'run'; result: unknown };

/** A target that succeeded. `json`: keep the whole output in the result. */
export function succeeded(host: string, ms: number, o: Outcome, json: boolean): HostResult {
  const r: HostResult = { host, status: 'ok', exitCode: null, signal: null, ms: Math.round(ms) };
  if (o.kind === 'run') return { ...r, result: o.result };
  return { ...r, exitCode: o.exec.exitCode, ...(json ? { stdout: o.exec.stdout ?? '', stderr: o.exec.stderr ?? '' } : {}) };
}

/**
 * A target that failed: `failed` when the command or the module did (it was reached and ran), else
 * `unreachable` if it never connected, `error` if it was lost (timed out, cut off, cancelled) after.
 */
export function failed(host: string, ms: number, err: Error, connected: boolean, json: boolean): HostResult {
  const ran = err instanceof CommandFailed || err instanceof CallError;
  const r: HostResult = {
    host, status: ran ? 'failed' : connected ? 'error' : 'unreachable',
    exitCode: err instanceof CommandFailed ? err.exitCode : null, signal: err instanceof CommandFailed ? err.signal : null,
    ms: Math.round(ms), error: { type: err.name, message: err.message },
  };
  if (err instanceof CommandFailed && json) return { ...r, stdout: err.output.stdout ?? '', stderr: err.output.stderr ?? '' };
  return r;
}

/** 0 all ok, 1 a command failed, 2 a target could not be reached or was lost (the worse wins). */
export function exitStatus(results: readonly HostResult[]): 0 | 1 | 2 {
  if (results.some((r) => r.status === 'unreachable' || r.status === 'error')) return 2;
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

/** The hosts that did not succeed, one a line, for --hosts-file; targets a hosts file cannot name are comments saying how to rerun them. */
export function failedFile(targets: readonly Target[], results: readonly HostResult[]): string {
  return results.flatMap((r, i) => {
    if (r.status === 'ok') return [];
    const t = targets[i]!;
    if (t.kind === 'docker') return [`# ${t.text} (rerun with --docker ${t.container})\n`];
    if (t.kind === 'local') return [`# ${t.text} (rerun with --local)\n`];
    return [`${t.text}\n`];
  }).join('');
}
