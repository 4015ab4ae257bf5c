/** What one side of a figure is (a measurement or why there is none), and the bounds every loop runs under. */

/** The median, min and max of `n` repetitions. */
export interface Stat { kind: 'stat'; median: number; min: number; max: number; n: number; unit: string }
/** Why a side has no measurement: the feature is not built yet, a prerequisite is missing, or it failed. */
export interface Marker { kind: 'not built' | 'skipped' | 'error'; reason: string }
/** null: the figure has no such comparison (e.g. no floor for fan-out). */
export type Side = Stat | Marker | null;

export const isStat = (s: Side | undefined): s is Stat => !!s && s.kind === 'stat';
export const marker = (kind: Marker['kind'], reason: string): Marker => ({ kind, reason });

export function stat(samples: readonly number[], unit: string): Side {
  const s = samples.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return marker('error', `no finite samples (${samples.length} taken)`);
  const mid = s.length >> 1;
  // An even count takes the mean of the two middle samples (the lower one alone would bias a 2-sample quick run).
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { kind: 'stat', median, min: s[0]!, max: s[s.length - 1]!, n: s.length, unit };
}

/**
 * A time limit for one side of a figure. Loops take at most their count of
 * repetitions and stop early (after at least one) once it has passed, so a
 * slow machine shortens the run instead of stretching it.
 */
export class Deadline {
  private readonly end: number;
  constructor(readonly seconds: number) { this.end = performance.now() + seconds * 1000; }
  get expired(): boolean { return performance.now() > this.end; }
}

/** `body(i)` for i < reps, stopping early once `dl` has expired (one repetition always runs). */
export async function repeat(reps: number, dl: Deadline, body: (i: number) => Promise<void> | void): Promise<void> {
  for (let i = 0; i < reps && (i === 0 || !dl.expired); i++) await body(i);
}

/** Rejects after `ms` unless `p` settles first: one hung await fails its figure instead of the whole run. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
