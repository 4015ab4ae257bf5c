/**
 * ModuleActor: module forwarding, in the broker worker of every context.
 *
 * It keeps this context's ModuleTable. A request the table can answer asks
 * nobody; otherwise the source is asked: in the master, its own disk;
 * anywhere else, the parent, whose reply brings the module's static closure
 * too.
 *
 * Every reply carries, besides the module asked for, the modules of its
 * static closure that the asker was not sent yet, up to a burst bound:
 * Mitogen's per-stream memory of what was sent, so nothing goes twice, an
 * intermediate context preloads its own children from what passed through
 * it, and this context's own threads (the CommonJS loader, the ESM hooks)
 * keep a copy and stop asking.
 */
import { pathToFileURL } from 'node:url';
import { edgeKey, ModuleTable, targetOf } from '../src/modules/module-table.js';
import { fail, ok } from '../src/wire/outcome.js';
import type { CallToCome, ModuleEntry, ModuleFound, ModuleOutcome, ModuleReply, ModuleRequest } from '../src/modules/module-wire.js';
import { packPreload, unpackPreload } from '../src/modules/module-wire.js';

/** Where a context's modules come from. */
export interface ModuleSource {
  /** The URL `req` resolves to (a `node:` builtin, or a module `entries` can supply), or why not. */
  resolve(req: ModuleRequest, into: ModuleActor): Promise<ModuleOutcome<string>>;
  /** The modules at `urls`, or why each cannot be had (undefined: not held here). */
  entries(urls: string[], into: ModuleActor): Promise<(ModuleOutcome<ModuleEntry> | undefined)[]>;
  /** Gets ready to serve (a child is being started), in the background. */
  warm?(): void;
  /** Every URL `url` reaches by static edges, breadth first, when the source can tell without loading them. */
  closure?(url: string): Promise<string[]>;
  /** The literal imports and requires of a function's source, as its call will make them from `caller`. */
  callImports?(source: string, caller: string): Promise<ModuleRequest[]>;
}

/** Fresh-stream bursts kept packed, at most. */
const FRESH_BURSTS = 64;

/** Modules loaded at once while a closure is gathered (bounded, so a huge package stops near the burst bound). */
const CLOSURE_BATCH = 64;

/** Source bytes one burst may carry before compression; what is over is asked for later. */
export const DEFAULT_BURST_BYTES = 16 * 1024 * 1024;

/** Who is being answered: a child context on a stream (bursts deflated), or a thread of this context. */
export interface Asker { key: object; remote: boolean }

export class ModuleActor {
  readonly table = new ModuleTable();
  readonly #inflight = new Map<string, Promise<ModuleOutcome<string>>>();
  /** Per asker: the URLs it was sent. A new stream (a reconnect) starts empty. */
  readonly #sent = new WeakMap<object, Set<string>>();
  /** Requests answered from the table / passed to the source; GET_MODULE requests served to children; modules that came preloaded. */
  hits = 0;
  misses = 0;
  requests = 0;
  preloaded = 0;
  /** Requests from this context's own threads (each asks once, then answers from its copy). */
  threadRequests = 0;

  readonly #source: ModuleSource;

  constructor(source: ModuleSource, public burstBytes = DEFAULT_BURST_BYTES) {
    this.#source = source;
  }

  /** Forgets everything (the policy changed). */
  clear(): void {
    this.table.clear();
    this.#inflight.clear();
    this.#freshBursts.clear();
  }

  /** Bursts packed for the wire (a fresh stream's burst from a root is packed once and shared). */
  packs = 0;
  /**
   * A new stream's burst from a root, packed once: the hundred children of a
   * fan-out asking for the same module are sent the same bytes, not deflated
   * a hundred times.
   */
  readonly #freshBursts = new Map<string, Promise<{ urls: string[]; packed?: ModuleEntry[] | Uint8Array }>>();

  entry(url: string): ModuleEntry | undefined {
    return this.table.entry(url);
  }

  warm(): void {
    this.#source.warm?.();
  }

  /** Functions whose imports were gathered ahead of their call (counted when begun); modules they found ready (counted when done). */
  prefetches = 0;
  prefetched = 0;

  /**
   * A call is on its way: gathers what the function will import (resolved,
   * loaded, with its closure) while the call travels and the child starts
   * it, so the child's request finds it all ready. Nothing is sent; a
   * failure here is found again, and reported, when the child asks.
   */
  prefetch(call: CallToCome): Promise<void> {
    if (!this.#source.callImports) return Promise.resolve();
    this.prefetches++;
    const p = this.#gather(call).finally(() => this.#prefetching.delete(p));
    this.#prefetching.add(p);
    return p;
  }

  /** Resolves when every prefetch begun so far has ended. */
  async prefetchesSettled(): Promise<void> {
    await Promise.all([...this.#prefetching]);
  }

  readonly #prefetching = new Set<Promise<void>>();

  async #gather(call: CallToCome): Promise<void> {
    if (!this.#source.callImports) return;
    // A module's export is imported by its own URL; a function's source, by what it names.
    const reqs: ModuleRequest[] = 'url' in call
      ? [{ kind: 'import', spec: call.url, parent: call.url }]
      : await this.#source.callImports(call.source, call.caller).catch((): ModuleRequest[] => []);
    const ready = new Set<string>();
    await Promise.all(reqs.map(async (req) => {
      const resolved = await this.#resolve(req);
      if (!resolved.ok || resolved.value.startsWith('node:')) return;
      const url = resolved.value;
      const [got] = await this.#entriesOf([url]);
      if (!got?.ok) return;
      const e = got.value;
      // Counted as held, whoever loaded them: a request may have arrived first and shared the work.
      for (const u of [url, ...await this.#loadClosure(e)]) if (this.table.entry(u)) ready.add(u);
    }));
    this.prefetched += ready.size;
  }

  /** Takes in a reply from the parent: the module, its edges and its preload. */
  absorbReply(r: ModuleFound): void {
    this.preloaded += this.table.absorbReply(r, unpackPreload(r.preload));
  }

  /** Answers `req` for `asker`, with what of its closure the asker was not sent yet. */
  serve(req: ModuleRequest, asker: Asker): Promise<ModuleReply> {
    if (asker.remote) this.requests++;
    else this.threadRequests++;
    let sentTo = this.#sent.get(asker.key);
    if (!sentTo) this.#sent.set(asker.key, sentTo = new Set());
    return this.#answer(req, sentTo, asker.remote);
  }

  async #answer(req: ModuleRequest, sentTo: Set<string>, remote: boolean): Promise<ModuleReply> {
    const resolved = await this.#resolve(req);
    if (!resolved.ok) return resolved;
    const url = resolved.value;
    if (url.startsWith('node:')) return ok({ url, format: 'builtin' });
    let [got] = await this.#entriesOf([url]);
    if (!got) {
      // The edge was known (it came with its importer) but the module was over a burst bound: ask for it.
      const again = await this.#source.resolve(req, this);
      if (!again.ok) return again;
      [got] = await this.#entriesOf([again.value]);
    }
    if (!got) return fail({ code: 'ERR_MODULE_FORWARDING', message: `module ${url} (${req.spec} from ${req.parent}) is not held by this context` });
    if (!got.ok) return got;
    const e = got.value;
    const reply: ModuleFound = { url: e.url, format: e.format, source: e.source, exports: e.exports, deps: e.deps };
    if (remote && sentTo.size === 0) {
      const fresh = await this.#freshBurst(e);
      sentTo.add(e.url);
      for (const u of fresh.urls) sentTo.add(u);
      if (fresh.packed) reply.preload = fresh.packed;
      return ok(reply);
    }
    sentTo.add(e.url);
    const { burst, bytes } = await this.#burst(e, sentTo);
    if (burst.length) reply.preload = remote ? this.#pack(burst, bytes) : burst;
    return ok(reply);
  }

  #freshBurst(root: ModuleEntry): Promise<{ urls: string[]; packed?: ModuleEntry[] | Uint8Array }> {
    const key = `${root.url}\0${this.burstBytes}`;
    let p = this.#freshBursts.get(key);
    if (!p) {
      p = this.#burst(root, new Set([root.url])).then(({ burst, bytes }) => (
        { urls: burst.map((b) => b.url), packed: burst.length ? this.#pack(burst, bytes) : undefined }));
      p.catch(() => this.#freshBursts.delete(key));
      // Bounded: roots are the modules children ask for first, few in practice.
      if (this.#freshBursts.size >= FRESH_BURSTS) this.#freshBursts.clear();
      this.#freshBursts.set(key, p);
    }
    return p;
  }

  #pack(burst: ModuleEntry[], bytes: number): ModuleEntry[] | Uint8Array {
    this.packs++;
    return packPreload(burst, bytes);
  }

  #resolve(req: ModuleRequest): Promise<ModuleOutcome<string>> | ModuleOutcome<string> {
    const known = this.table.edge(req.kind, req.parent, req.spec) ?? this.#held(req.spec);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    const key = edgeKey(req.kind, req.parent, req.spec);
    let p = this.#inflight.get(key);
    if (p) return p;
    this.misses++;
    p = this.#source.resolve(req, this).then(
      (r) => {
        // Failures are not kept: the file may appear later.
        if (r.ok) this.table.setEdge(req.kind, req.parent, req.spec, r.value);
        return r;
      },
      (e: Error & { code?: string }) => fail({ code: e.code ?? 'ERR_MODULE_FORWARDING', message: e.message }),
    ).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  /** A module named by its absolute path or URL (an ESM wrapper requiring its CommonJS module) that is held here. */
  #held(spec: string): ModuleOutcome<string> | undefined {
    if (!spec.startsWith('/') && !spec.startsWith('file:')) return undefined;
    const url = spec.startsWith('/') ? pathToFileURL(spec).href : spec;
    return this.table.entry(url) ? ok(url) : undefined;
  }

  async #entriesOf(urls: string[]): Promise<(ModuleOutcome<ModuleEntry> | undefined)[]> {
    const missing = urls.filter((u) => !this.table.entry(u));
    const failed = new Map<string, ModuleOutcome<never>>();
    if (missing.length) {
      const got = await this.#source.entries(missing, this);
      got.forEach((e, i) => {
        if (e && !e.ok) failed.set(missing[i]!, e);
        else if (e) this.table.absorb(e.value);
      });
    }
    return urls.map((u) => {
      const e = this.table.entry(u);
      return e ? ok(e) : failed.get(u);
    });
  }

  /**
   * Gets `root`'s closure (as far as the burst bound) into the table in a few
   * parallel batches, when the source can list it up front: a chain of 40
   * files then costs about one transpile, not 40 in sequence. Returns the
   * closure as listed (empty when the source cannot list it).
   */
  async #loadClosure(root: ModuleEntry): Promise<string[]> {
    const urls = await this.#source.closure?.(root.url);
    if (!urls) return [];
    let bytes = root.source.byteLength;
    for (let i = 0; i < urls.length && bytes <= this.burstBytes; i += CLOSURE_BATCH) {
      for (const e of await this.#entriesOf(urls.slice(i, i + CLOSURE_BATCH))) if (e?.ok) bytes += e.value.source.byteLength;
    }
    return urls;
  }

  /** The closure of `root` the asker lacks, breadth first, within the burst bound. */
  async #burst(root: ModuleEntry, sentTo: Set<string>): Promise<{ burst: ModuleEntry[]; bytes: number }> {
    await this.#loadClosure(root);
    const burst: ModuleEntry[] = [];
    let bytes = root.source.byteLength;
    const seen = new Set([root.url]);
    let level = [root];
    while (level.length) {
      const next: string[] = [];
      for (const e of level) {
        for (const d of e.deps) {
          const u = targetOf(d);
          if (u && !seen.has(u)) { seen.add(u); next.push(u); }
        }
      }
      level = [];
      for (const got of await this.#entriesOf(next)) {
        // Not held here (over an earlier bound), or not loadable: the asker asks, and is told why.
        if (!got?.ok) continue;
        const e = got.value;
        level.push(e);
        if (sentTo.has(e.url)) continue;
        if (bytes + e.source.byteLength > this.burstBytes) return { burst, bytes };
        bytes += e.source.byteLength;
        burst.push(e);
        sentTo.add(e.url);
      }
    }
    return { burst, bytes };
  }
}

/** A context's source that is not the master: its parent, asked with GET_MODULE. */
export function parentModuleSource(ask: (req: ModuleRequest) => Promise<ModuleReply>): ModuleSource {
  return {
    async resolve(req, into) {
      const r = await ask(req);
      if (!r.ok) return r;
      if (r.value.format !== 'builtin') into.absorbReply(r.value);
      return ok(r.value.url);
    },
    // Only what the parent sent is known here.
    entries: async (urls, into) => urls.map((u) => {
      const e = into.entry(u);
      return e && ok(e);
    }),
  };
}
