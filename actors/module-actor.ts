/**
 * ModuleActor: module forwarding, in the broker worker of every context.
 *
 * It keeps this context's table of the master's modules: resolved edges
 * (`kind, parent, spec` → URL, exactly as the master's resolver keys them)
 * and the modules themselves. A request the table can answer asks nobody.
 * Otherwise the source is asked: in the master, its own disk; anywhere
 * else, the parent, whose reply brings the module's static closure too.
 *
 * Serving a child context, it sends in the same reply every module of the
 * closure that this stream has not been sent yet, up to a burst bound —
 * Mitogen's per-stream memory of what was sent, so nothing goes twice and an
 * intermediate context preloads its own children from what passed through.
 */
import type { DepEdge, ModuleEntry, ModuleFailure, ModuleFound, ModuleReply, ModuleRequest } from './module-wire.js';
import { edgeKey, isEntry, packPreload, unpackPreload } from './module-wire.js';

/** Where a context's modules come from. */
export interface ModuleSource {
  /** The URL `req` resolves to (a `node:` builtin, or a module `entries` can supply), or why not. */
  resolve(req: ModuleRequest, into: ModuleActor): Promise<string | ModuleFailure>;
  /** The modules at `urls`, or why each cannot be had (undefined: not held here). */
  entries(urls: string[], into: ModuleActor): Promise<(ModuleEntry | ModuleFailure | undefined)[]>;
}

/** Source bytes one burst may carry before compression; what is over is asked for later. */
export const DEFAULT_BURST_BYTES = 16 * 1024 * 1024;

export class ModuleActor {
  private readonly edges = new Map<string, string | ModuleFailure>();
  private readonly table = new Map<string, ModuleEntry>();
  private readonly inflight = new Map<string, Promise<string | ModuleFailure>>();
  /** Per child stream: the URLs it was sent. A new stream (a reconnect) starts empty. */
  private readonly sent = new WeakMap<object, Set<string>>();
  /** Requests answered from the table / passed to the source; GET_MODULE requests served to children. */
  hits = 0;
  misses = 0;
  requests = 0;
  preloaded = 0;

  constructor(private readonly source: ModuleSource, public burstBytes = DEFAULT_BURST_BYTES) {}

  /** Forgets everything (the policy changed). */
  clear(): void {
    this.edges.clear();
    this.table.clear();
    this.inflight.clear();
  }

  /** The module `url`, if this context holds it. */
  entry(url: string): ModuleEntry | undefined {
    return this.table.get(url);
  }

  /** Adds a module and its resolved edges to the table. */
  absorb(e: ModuleEntry): void {
    if (this.table.has(e.url)) return;
    this.table.set(e.url, e);
    for (const d of e.deps) {
      const key = edgeKey(d[0], e.url, d[1]);
      if (!this.edges.has(key)) this.edges.set(key, d[2] ?? { code: d[3], error: d[4] });
    }
  }

  /** Takes in a reply from the parent: the module, its edges and its preload. */
  absorbReply(r: ModuleFound): void {
    const main = { url: r.url, format: r.format, source: r.source, exports: r.exports, deps: r.deps ?? [] };
    if (isEntry(main)) this.absorb(main);
    for (const e of unpackPreload(r.preload)) {
      this.absorb(e);
      this.preloaded++;
    }
  }

  /** Answers a thread of this context (no preload: it shares this table). */
  get(req: ModuleRequest): Promise<ModuleReply> {
    return this.answer(req);
  }

  /** Answers a child context on `stream`, with what it was not sent yet. */
  serve(req: ModuleRequest, stream: object): Promise<ModuleReply> {
    this.requests++;
    let sentTo = this.sent.get(stream);
    if (!sentTo) this.sent.set(stream, sentTo = new Set());
    return this.answer(req, sentTo);
  }

  private async answer(req: ModuleRequest, sentTo?: Set<string>): Promise<ModuleReply> {
    const url = await this.resolve(req);
    if (typeof url !== 'string') return url;
    if (url.startsWith('node:')) return { url, format: 'builtin' };
    let [e] = await this.entriesOf([url]);
    if (!e) {
      // The edge was known (it came with its importer) but the module was over a burst bound: ask for it.
      const again = await this.source.resolve(req, this);
      if (typeof again !== 'string') return again;
      [e] = await this.entriesOf([again]);
    }
    if (!e) return { error: `module ${url} (${req.spec} from ${req.parent}) is not held by this context`, code: 'ERR_MODULE_FORWARDING' };
    if ('error' in e) return e;
    const reply: ModuleFound = { url: e.url, format: e.format, source: e.source, exports: e.exports, deps: e.deps };
    if (sentTo) {
      sentTo.add(e.url);
      const { burst, bytes } = await this.burst(e, sentTo);
      if (burst.length) reply.preload = packPreload(burst, bytes);
    }
    return reply;
  }

  private resolve(req: ModuleRequest): Promise<string | ModuleFailure> | string | ModuleFailure {
    const key = edgeKey(req.kind, req.parent, req.spec);
    const known = this.edges.get(key);
    if (known !== undefined) {
      this.hits++;
      return known;
    }
    let p = this.inflight.get(key);
    if (p) return p;
    this.misses++;
    p = this.source.resolve(req, this).then(
      (r) => {
        // Failures are not kept: the file may appear later.
        if (typeof r === 'string') this.edges.set(key, r);
        return r;
      },
      (e: Error & { code?: string }): ModuleFailure => ({ error: e.message, code: e.code ?? 'ERR_MODULE_FORWARDING' }),
    ).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async entriesOf(urls: string[]): Promise<(ModuleEntry | ModuleFailure | undefined)[]> {
    const missing = urls.filter((u) => !this.table.has(u));
    const failed = new Map<string, ModuleFailure>();
    if (missing.length) {
      const got = await this.source.entries(missing, this);
      got.forEach((e, i) => {
        if (e && 'error' in e) failed.set(missing[i]!, e);
        else if (e) this.absorb(e);
      });
    }
    return urls.map((u) => this.table.get(u) ?? failed.get(u));
  }

  /** The closure of `root` this stream lacks, breadth first, within the burst bound. */
  private async burst(root: ModuleEntry, sentTo: Set<string>): Promise<{ burst: ModuleEntry[]; bytes: number }> {
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
      for (const e of await this.entriesOf(next)) {
        // Not held here (over an earlier bound), or not loadable: the child asks, and is told why.
        if (!e || 'error' in e) continue;
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

function targetOf(d: DepEdge): string | undefined {
  return d[2] !== null && !d[2].startsWith('node:') ? d[2] : undefined;
}

/** A context's source that is not the master: its parent, asked with GET_MODULE. */
export function parentModuleSource(ask: (req: ModuleRequest) => Promise<ModuleReply>): ModuleSource {
  return {
    async resolve(req, into) {
      const r = await ask(req);
      if ('error' in r) return r;
      if (r.format !== 'builtin') into.absorbReply(r);
      return r.url;
    },
    // Only what the parent sent is known here.
    entries: async (urls, into) => urls.map((u) => into.entry(u)),
  };
}
