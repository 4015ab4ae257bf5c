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
import { decodeBody, encodeBody } from '../wire/codec.js';
import type { Outcome } from '../wire/outcome.js';
import { isEntry } from './module-entry.js';
import type { DepEdge, ModuleEntry, ModuleFormat, ModuleKind } from './module-entry.js';

export type { DepEdge, ModuleEntry, ModuleFormat, ModuleKind } from './module-entry.js';


export interface ModuleRequest {
  spec: string;
  parent: string;
  kind: ModuleKind;
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

/** Why a module cannot be had, as Node would say it: `code` ERR_MODULE_NOT_FOUND, ERR_MODULE_REFUSED, … */
export interface ModuleFailure { code: string; message: string }

/** A module (or its URL), or why it cannot be had. */
export type ModuleOutcome<T> = Outcome<T, ModuleFailure>;

/** GET_MODULE's reply, and the loaders' from their broker: plain data (msgpack, structured clone). */
export type ModuleReply = ModuleOutcome<ModuleFound>;

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

/** A call on its way: a function's source and the module that calls it, or an exported function's module. */
export type CallToCome = { source: string; caller: string } | { url: string };
