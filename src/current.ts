/**
 * The router of the context this code runs in — in a child, the one the
 * runtime made — so a called function can start contexts of its own or open
 * channels (Mitogen passes it with @takes_router). Kept on a global symbol so
 * a forwarded copy of mitogen-ts in a child finds the runtime's router.
 */
import type { Router } from './router.js';

const KEY = Symbol.for('mitogen-ts.currentRouter');

export function setCurrentRouter(r: Router | undefined): void {
  (globalThis as Record<symbol, unknown>)[KEY] = r;
}

/** The Router of this context; undefined in a master that has not made one. */
export function currentRouter(): Router | undefined {
  return (globalThis as Record<symbol, unknown>)[KEY] as Router | undefined;
}
