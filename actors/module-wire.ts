/**
 * The messages of module forwarding (GET_MODULE and its reply), shared by
 * every context's broker and the main thread's loaders.
 *
 * A reply carries the module asked for and, to a child context, a preload:
 * the modules of its static dependency closure that this stream was not sent
 * yet. Every module comes with its outgoing edges already resolved by the
 * master (`deps`), so the receiving context answers the next resolve of a
 * preloaded module from its own table, asking nobody — Mitogen's
 * `_send_module_and_related`, for a module graph rather than a package.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeBody, encodeBody } from '../src/codec.js';
import { isEntry } from './module-table.js';

export type ModuleKind = 'import' | 'require';

/** How a module is loaded, as Node's loader names formats (the master's resolver decides it). */
export type ModuleFormat = 'module' | 'commonjs' | 'json' | 'builtin';

export interface ModuleRequest {
  spec: string;
  parent: string;
  kind: ModuleKind;
}

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

export interface ModuleFound {
  url: string;
  format: ModuleFormat;
  source?: Uint8Array;
  exports?: string[];
  deps?: DepEdge[];
  /** Modules sent ahead of being asked for: a list, or that list deflated (large bursts). */
  preload?: ModuleEntry[] | Uint8Array;
}

export interface ModuleFailure { error: string; code: string }

export type ModuleReply = ModuleFound | ModuleFailure;

/** Bursts larger than this travel deflated. */
const DEFLATE_OVER = 64 * 1024;

/** A burst for the wire: deflated when large. (Threads of one context get the list as it is.) */
export function packPreload(entries: ModuleEntry[], bytes: number): ModuleEntry[] | Uint8Array {
  return bytes > DEFLATE_OVER ? deflateRawSync(encodeBody(entries), { level: 1 }) : entries;
}

/** The entries of a preload, keeping only well-formed ones (the parent is trusted, but not its bugs). */
export function unpackPreload(p: ModuleFound['preload']): ModuleEntry[] {
  if (!p) return [];
  const list = p instanceof Uint8Array ? decodeBody(inflateRawSync(p)) : p;
  return Array.isArray(list) ? list.filter(isEntry) : [];
}
