/**
 * fork: an isolated context in a new worker thread of the target context —
 * its own isolate, module cache, globals and dispatcher, routed like any
 * other context. Node cannot fork(2) a running process; see docs/fork-safety.md
 * for what that changes.
 */
import { functionSource } from '../src/wire/call.js';
import type { AnyFunction } from '../src/wire/call.js';
import type { ForkTransport } from './transport.js';

export interface ForkOptions {
  /** Runs inside the fork, given its own Context, before the fork takes calls (sent by source). */
  onStart?: AnyFunction;
  /** Mitogen's on_fork: here the same moment as onStart (a fresh isolate has nothing to reseed); runs first. */
  onFork?: AnyFunction;
  /** As worker_threads takes them: a heap blow-up ends only the fork. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number };
}

export const fork: ForkTransport<ForkOptions> = {
  method: 'fork',
  kind: 'fork',
  extra(o) {
    const parts = [o.onFork, o.onStart].filter((f): f is AnyFunction => typeof f === 'function');
    // One start function: onFork, then onStart, each given the fork's Context.
    const onStart = parts.length
      ? `async (ctx) => { ${parts.map((f) => `await (${functionSource(f)})(ctx);`).join(' ')} }`
      : undefined;
    return { fork: { onStart, resourceLimits: o.resourceLimits } };
  },
};
