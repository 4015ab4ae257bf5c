/**
 * One module as contexts hold and send it: its format, its source, its
 * edges already resolved by the master, and the check that a received one
 * has that shape. Dependency-free (the ESM hooks bundle includes it).
 */

export type ModuleKind = 'import' | 'require';

/** How a module is loaded, as Node's loader names formats (the master's resolver decides it). */
export type ModuleFormat = 'module' | 'commonjs' | 'json' | 'builtin';

/**
 * One static edge out of a module, resolved in the master: to a URL, or a
 * failure the importing code is told about when (and only if) it asks —
 * a native addon or an optional dependency the master lacks.
 */
export type DepEdge =
  | [kind: ModuleKind, spec: string, url: string]
  | [kind: ModuleKind, spec: string, url: null, code: string, error: string];

/** A module as a context keeps it. */
export interface ModuleEntry {
  url: string;
  format: Exclude<ModuleFormat, 'builtin'>;
  source: Uint8Array;
  /** Named exports of a CommonJS module, as Node's cjs-module-lexer finds them (for ESM importers). */
  exports?: string[];
  deps: DepEdge[];
}

const FORMATS: ReadonlySet<unknown> = new Set(['module', 'commonjs', 'json']);

export function isEntry(e: unknown): e is ModuleEntry {
  const v = e as Partial<ModuleEntry> | null;
  return typeof v === 'object' && v !== null && typeof v.url === 'string' && FORMATS.has(v.format)
    && v.source instanceof Uint8Array && Array.isArray(v.deps) && v.deps.every(isEdge)
    && (v.exports === undefined || (Array.isArray(v.exports) && v.exports.every((x) => typeof x === 'string')));
}

function isEdge(d: unknown): d is DepEdge {
  if (!Array.isArray(d) || (d[0] !== 'import' && d[0] !== 'require') || typeof d[1] !== 'string') return false;
  return d.length === 3 ? typeof d[2] === 'string' : d.length === 5 && d[2] === null && typeof d[3] === 'string' && typeof d[4] === 'string';
}
