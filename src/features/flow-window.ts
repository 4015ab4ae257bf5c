/**
 * The credit window of a remote stream (ctx.observe, and putFile/getFile's `window`): what a user may set,
 * its defaults, and the check that turns a bad setting into a RangeError
 * naming the field instead of a stream that never moves.
 */

export interface FlowWindow {
  /** Bytes the producer may send ahead of the consumer (one value is always allowed). The bound on memory. */
  bytes: number;
  /** Optional cap on values ahead, whatever their size; 0 or absent: none. */
  messages?: number;
  /** The window may grow up to this many bytes while the consumer keeps up and the link needs more; default max(bytes, 64 MiB). */
  maxBytes?: number;
}

export const DEFAULT_WINDOW: FlowWindow = { bytes: 4 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 };

/** A checked window: every field present. */
export interface Window { bytes: number; messages: number; maxBytes: number }

const DEFAULT_MAX = DEFAULT_WINDOW.maxBytes!;

function positiveInt(v: unknown, what: string, zeroOk: boolean): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (zeroOk ? 0 : 1)) {
    throw new RangeError(`${what} must be ${zeroOk ? 'a whole number >= 0' : 'a whole number >= 1'}, got ${String(v)}`);
  }
  return v;
}

/** Fills in the defaults; throws a RangeError naming a field (of `name`: the setting) that is not a usable count. */
export function checkWindow(w: FlowWindow, name = 'observeWindow'): Window {
  if (typeof w !== 'object' || w === null) throw new RangeError(`${name} must be an object like { bytes: 4194304 }, got ${String(w)}`);
  const bytes = positiveInt(w.bytes, `${name}.bytes`, false);
  const messages = w.messages === undefined ? 0 : positiveInt(w.messages, `${name}.messages`, true);
  const maxBytes = w.maxBytes === undefined ? Math.max(bytes, DEFAULT_MAX) : positiveInt(w.maxBytes, `${name}.maxBytes`, false);
  if (maxBytes < bytes) throw new RangeError(`${name}.maxBytes (${maxBytes}) must be >= ${name}.bytes (${bytes})`);
  return { bytes, messages, maxBytes };
}
