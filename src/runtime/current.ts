/**
 * What code in a context can ask about where it runs: the router of the
 * context — in a child, the one the runtime made — so a called function can
 * start contexts of its own or open channels (Mitogen passes it with
 * @takes_router), and the call it runs for (its cancellation signal). Both
 * are kept on global symbols so a forwarded copy of mitogen-ts in a child
 * finds the runtime's.
 */
import type { CallInfo } from './call-deadline-scope.js';
import { MitogenError } from '../wire/errors.js';
import type { Router } from './router.js';

const KEY = Symbol.for('mitogen-ts.currentRouter');

export function setCurrentRouter(r: Router | undefined): void {
  (globalThis as Record<symbol, unknown>)[KEY] = r;
}

/** The Router of this context; undefined in a master that has not made one. */
export function currentRouter(): Router | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as Router | undefined;
}

const CALL_KEY = Symbol.for('mitogen-ts.currentCall');

/**
 * The call this code runs for. Valid in the synchronous part of the called
 * function (before its first `await`): read it there and keep what it returns.
 */
export function currentCall(): CallInfo {
  const info = (globalThis as Record<symbol, unknown>)[CALL_KEY] as CallInfo | undefined;
  if (!info) {
    throw new MitogenError('currentCall() is only valid in the synchronous part of a function run by ctx.call or ctx.callWith (before its first await): call it there and keep the result');
  }
  return info;
}

/** @internal Runs `fn` (the synchronous part of a call) with `info` as the current call. */
export function withCurrentCall<T>(info: CallInfo, fn: () => T): T {
  const g = globalThis as Record<symbol, unknown>;
  const prev = g[CALL_KEY];
  g[CALL_KEY] = info;
  try {
    return fn();
  } finally {
    g[CALL_KEY] = prev;
  }
}
