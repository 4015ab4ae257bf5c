/**
 * How a call travels: the function's source (or a module reference), its
 * arguments, and the URL of the module that made the call, against which
 * the target resolves the function's relative imports; and how a call is
 * typed where it is made.
 */
import { fileURLToPath } from 'node:url';
import { MitogenError } from './errors.js';

/** A reference to an exported function of a module, called by import in the target. */
export class FnRef {
  constructor(readonly url: string, readonly exportName: string) {}
}

/** Refers to `exportName` of the module at `moduleUrl` (a file URL, path or package specifier). */
export function fnRef(moduleUrl: string | URL, exportName = 'default'): FnRef {
  const url = moduleUrl instanceof URL ? moduleUrl.href : moduleUrl.startsWith('/') ? `file://${moduleUrl}` : moduleUrl;
  return new FnRef(url, exportName);
}

/** [source | null, moduleUrl | null, exportName | null, args, callerUrl | null] */
export type CallBody = [string | null, string | null, string | null, unknown[], string | null];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (...args: any[]) => unknown;

/** What a call of `F` resolves with: the function's awaited result (unknown for an fnRef). */
export type CallResult<F> = F extends AnyFunction ? Awaited<ReturnType<F>> : unknown;
/** The arguments a call of `F` takes. */
export type CallArgs<F> = F extends AnyFunction ? Parameters<F> : unknown[];

/** ctx.callWith's options. */
export interface CallWithOptions {
  /** Seconds to wait for the result; Infinity for none (overrides router.callTimeout). */
  timeout?: number;
  /** Aborting it gives up on the call. */
  signal?: AbortSignal;
}

const sourceCache = new WeakMap<AnyFunction, string>();

/** The source of a function as an expression (method shorthand made a function). */
export function functionSource(fn: AnyFunction): string {
  let src = sourceCache.get(fn);
  if (src !== undefined) return src;
  src = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}$/.test(src)) {
    throw new MitogenError(`cannot send ${fn.name || 'a function'}: it is native or bound, so its source cannot travel; pass a self-contained function or fnRef(moduleUrl, name)`);
  }
  if (/^class\b/.test(src)) throw new MitogenError(`cannot call class ${fn.name}: pass a function`);
  // `foo() {}` and `async foo() {}` (object method shorthand) are not expressions on their own.
  if (!/^(async\s*)?(function\b|\(|[\w$]+\s*=>)/.test(src) && /^(async\s+)?\*?\s*[\w$]+\s*\(/.test(src)) {
    src = src.replace(/^(async\s+)?(\*?)\s*/, (_m, a: string | undefined, star: string) => `${a ?? ''}function${star} `);
  }
  sourceCache.set(fn, src);
  return src;
}

/** Only functions that import or require need to know where they came from. */
export function needsCaller(src: string): boolean {
  return src.includes('import') || src.includes('require');
}

const ownDir = (() => {
  try {
    return fileURLToPath(new URL('../..', import.meta.url));
  } catch {
    return undefined; // in a child's bundle there is no module URL
  }
})();

/** The URL of the first stack frame outside mitogen-ts: the module that called. */
export function callerUrl(): string | null {
  const prev = Error.prepareStackTrace;
  const prevLimit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 20;
    Error.prepareStackTrace = (_e, s) => s;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, callerUrl);
    sites = holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prev;
    Error.stackTraceLimit = prevLimit;
  }
  for (const site of sites) {
    const file = site.getFileName();
    if (!file || file.startsWith('node:')) continue;
    const path = file.startsWith('file:') ? fileURLToPath(file) : file;
    if (!path.startsWith('/')) continue;
    if (ownDir && isOwnRuntime(path)) continue;
    return file.startsWith('file:') ? file : `file://${file}`;
  }
  return null;
}

function isOwnRuntime(path: string): boolean {
  // Any depth: the runtime's folders have folders of their own (src/runtime/, actors/openers/...).
  return /^\/(src|actors|transports)\/.+\.[cm]?[jt]s$/.test(path.slice(ownDir!.length - 1))
    && path.startsWith(ownDir!) && !path.includes('/node_modules/', ownDir!.length);
}
