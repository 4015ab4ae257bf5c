/**
 * What one thread of a context knows of the master's modules: resolved edges
 * (`kind, parent, spec` → URL or failure, keyed as the master's resolver
 * keys them) and the modules themselves. The broker's ModuleActor keeps one
 * for the context; the main thread's CommonJS loader and the ESM hooks keep
 * their own copy of what they were sent, so a preloaded module is resolved
 * and loaded without a message to anyone. Dependency-free: the ESM hooks
 * bundle includes it.
 */
import { isEntry } from './module-entry.js';
import type { DepEdge, ModuleEntry, ModuleKind } from './module-entry.js';
import type { ModuleFound, ModuleOutcome, ModuleReply, ModuleRequest } from './module-wire.js';
import { fail, ok } from '../wire/outcome.js';

export function edgeKey(kind: ModuleKind, parent: string, spec: string): string {
  return `${kind}\0${parent}\0${spec}`;
}

export class ModuleTable {
  readonly #edges = new Map<string, ModuleOutcome<string>>();
  readonly #entries = new Map<string, ModuleEntry>();

  /** Modules held. */
  get size(): number { return this.#entries.size; }

  clear(): void {
    this.#edges.clear();
    this.#entries.clear();
  }

  entry(url: string): ModuleEntry | undefined {
    return this.#entries.get(url);
  }

  edge(kind: ModuleKind, parent: string, spec: string): ModuleOutcome<string> | undefined {
    return this.#edges.get(edgeKey(kind, parent, spec));
  }

  setEdge(kind: ModuleKind, parent: string, spec: string, to: string): void {
    this.#edges.set(edgeKey(kind, parent, spec), ok(to));
  }

  /** Adds a module and its resolved edges. */
  absorb(e: ModuleEntry): void {
    if (this.#entries.has(e.url)) return;
    this.#entries.set(e.url, e);
    for (const d of e.deps) {
      const key = edgeKey(d[0], e.url, d[1]);
      if (!this.#edges.has(key)) this.#edges.set(key, d[2] !== null ? ok(d[2]) : fail({ code: d[3], message: d[4] }));
    }
  }

  /**
   * Takes in a reply and the preload (already unpacked) that came with it,
   * keeping only well-formed modules; returns how many preloaded ones it took.
   */
  absorbReply(r: ModuleFound, preload: readonly ModuleEntry[]): number {
    const main = { url: r.url, format: r.format, source: r.source, exports: r.exports, deps: r.deps ?? [] };
    if (isEntry(main)) this.absorb(main);
    let n = 0;
    for (const e of preload) if (isEntry(e)) { this.absorb(e); n++; }
    return n;
  }

  /** Keeps what a thread's broker answered to `req`: the module, the edge that led to it, and the preload. */
  record(req: ModuleRequest, r: ModuleReply): void {
    if (!r.ok || r.value.format === 'builtin') return;
    this.absorbReply(r.value, Array.isArray(r.value.preload) ? r.value.preload : []);
    this.setEdge(req.kind, req.parent, req.spec, r.value.url);
  }

  /** The reply this table alone gives `kind, parent, spec`, or undefined when someone must be asked. */
  answer(kind: ModuleKind, parent: string, spec: string): ModuleReply | undefined {
    const edge = this.edge(kind, parent, spec);
    if (!edge?.ok) return edge;
    const to = edge.value;
    if (to.startsWith('node:')) return ok({ url: to, format: 'builtin' });
    const e = this.#entries.get(to);
    return e && ok({ url: e.url, format: e.format, source: e.source, exports: e.exports, deps: e.deps });
  }
}

/** Where an edge leads, when that is a module (not a builtin, not a failure). */
export function targetOf(d: DepEdge): string | undefined {
  return d[2] !== null && !d[2].startsWith('node:') ? d[2] : undefined;
}

