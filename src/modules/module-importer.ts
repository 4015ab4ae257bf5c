/**
 * The child's side of module forwarding, on its main thread.
 *
 * require(): synchronous, as CommonJS must be. A module this context cannot
 * find on disk is fetched through the broker worker while this thread waits
 * on Atomics.wait (the broker does the async round trip to the parent), then
 * compiled here with a require of its own that resolves against its URL.
 *
 * import(): the ESM loader hooks (module-hooks.ts, registered on first use)
 * ask the broker for what the disk lacks; this side only tells them which
 * module is importing (the caller's URL travels with the call).
 */
import { createRequire, isBuiltin } from 'node:module';
import nodeModule from 'node:module';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { ModuleTable } from './module-table.js';
import type { ModuleReply, ModuleRequest } from './module-wire.js';
import type { Broker } from '../runtime/broker.js';
import { MitogenError, TimeoutError } from '../wire/errors.js';
import { unwrap } from '../wire/outcome.js';

export const IMPORT_PREFIX = 'mitogen-import:';
const TS_FILE = /\.[cm]?tsx?$/;
const SYNC_TIMEOUT_MS = 60_000;

export interface ImporterDeps {
  broker: Broker;
  nodeRequire: NodeJS.Require;
  dynamicImport: (specifier: string) => Promise<Record<string, unknown>>;
  hooksSource: string;
}

interface CjsModule { exports: unknown; id: string; filename: string; loaded: boolean }

export class ModuleImporter {
  private readonly cjs = new Map<string, CjsModule>();
  /** What the broker sent this thread: preloaded modules are required without asking. */
  private readonly table = new ModuleTable();
  private hooksReady?: Promise<void>;
  private nextId = 1;
  private readonly cwdUrl = pathToFileURL(`${process.cwd()}/`).href;

  constructor(private readonly deps: ImporterDeps) {
    // ESM wrappers of forwarded CommonJS modules call back here (see module-hooks.ts).
    (globalThis as Record<symbol, unknown>)[Symbol.for('mitogen-ts.requireUrl')] = (url: string) => this.requireUrl(url);
  }

  /** A require() that resolves against `parent` (a file URL), forwarding what is missing. */
  requireFrom(parent: string | null): NodeJS.Require {
    const parentUrl = parent ?? this.cwdUrl;
    const req = ((spec: string) => {
      if (isBuiltin(spec)) return this.deps.nodeRequire(spec);
      if (this.isLocal(parentUrl) && !TS_FILE.test(spec)) {
        try {
          return createRequire(fileURLToPath(parentUrl))(spec);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
        }
      }
      return this.requireForwarded(spec, parentUrl);
    }) as NodeJS.Require;
    return Object.assign(req, {
      resolve: (spec: string) => createRequire(fileURLToPath(parentUrl)).resolve(spec),
      cache: this.deps.nodeRequire.cache,
      main: undefined,
      extensions: this.deps.nodeRequire.extensions,
    }) as NodeJS.Require;
  }

  /** import() as seen from `parent`: local if the disk has it, else forwarded. */
  async importFrom(spec: string, parent: string | null): Promise<Record<string, unknown>> {
    if (isBuiltin(spec)) return this.deps.dynamicImport(spec);
    // The first import() starts Node's hooks thread (tens of ms): meanwhile the broker
    // already asks for what this disk cannot supply, so that thread's request finds it held.
    if (!this.hooksReady && !this.resolvesHere(spec, parent ?? this.cwdUrl)) {
      void this.deps.broker.control((api) => api.warmModule({ kind: 'import', spec, parent: parent ?? this.cwdUrl })).catch(() => { /* the import itself reports it */ });
    }
    await this.ensureHooks();
    return this.deps.dynamicImport(`${IMPORT_PREFIX}${encodeURIComponent(JSON.stringify([spec, parent ?? this.cwdUrl]))}`);
  }

  /** The exported function `name` of the module at `url`. */
  async exportOf(url: string, name: string): Promise<(...args: unknown[]) => unknown> {
    const ns = await this.importFrom(url, url);
    let f = ns[name];
    if (f === undefined && ns.default && typeof ns.default === 'object') f = (ns.default as Record<string, unknown>)[name];
    if (typeof f !== 'function') throw new TypeError(`${url} has no exported function named ${name}`);
    return f as (...args: unknown[]) => unknown;
  }

  /** Whether this disk has `spec` as seen from `parent` (Node's CommonJS resolution: close enough to skip a request; TypeScript always comes from the master). */
  private resolvesHere(spec: string, parent: string): boolean {
    if (TS_FILE.test(spec)) return false;
    try {
      if (spec.startsWith('file:')) return existsSync(fileURLToPath(spec));
      return !TS_FILE.test(createRequire(fileURLToPath(parent)).resolve(spec));
    } catch {
      return false;
    }
  }

  private isLocal(url: string): boolean {
    return url.startsWith('file:') && !this.cjs.has(url) && existsSync(fileURLToPath(url));
  }

  private requireForwarded(spec: string, parentUrl: string): unknown {
    const reply = this.lookup({ spec, parent: parentUrl, kind: 'require' });
    if (!reply.ok) {
      const e = new Error(reply.why.message) as NodeJS.ErrnoException;
      e.code = reply.why.code === 'ERR_MODULE_NOT_FOUND' ? 'MODULE_NOT_FOUND' : reply.why.code;
      throw e;
    }
    const r = reply.value;
    if (r.format === 'builtin') return this.deps.nodeRequire(r.url);
    return this.instantiate(r.url, r.format, r.source!);
  }

  /** Used by ESM wrappers: the exports of a forwarded CommonJS module by URL. */
  private requireUrl(url: string): unknown {
    const m = this.cjs.get(url);
    if (m) return m.exports;
    const held = this.table.entry(url);
    if (held) return this.instantiate(held.url, held.format, held.source);
    const r = unwrap(this.lookup({ spec: fileURLToPath(url), parent: url, kind: 'require' }), (why) => new Error(why.message));
    return this.instantiate(r.url, r.format, r.source!);
  }

  private instantiate(url: string, format: string, source: Uint8Array): unknown {
    const cached = this.cjs.get(url);
    if (cached) return cached.exports;
    const text = Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
    const filename = fileURLToPath(url);
    if (format === 'json') {
      const m: CjsModule = { exports: JSON.parse(text), id: url, filename, loaded: true };
      this.cjs.set(url, m);
      return m.exports;
    }
    if (format !== 'commonjs') {
      const e = new Error(`require() of ES module ${url} is not supported: use import()`) as NodeJS.ErrnoException;
      e.code = 'ERR_REQUIRE_ESM';
      throw e;
    }
    const m: CjsModule = { exports: {}, id: url, filename, loaded: false };
    this.cjs.set(url, m);
    try {
      compileCommonJs(text, filename).call(m.exports, m.exports, this.requireFrom(url), m, filename, dirname(filename));
      m.loaded = true;
    } catch (e) {
      this.cjs.delete(url);
      throw e;
    }
    return m.exports;
  }

  /** From this thread's table, or else from the broker (keeping what it sends along). */
  private lookup(req: ModuleRequest): ModuleReply {
    const held = this.table.answer(req.kind, req.parent, req.spec);
    if (held) return held;
    const r = this.fetchSync(req);
    this.table.record(req, r);
    return r;
  }

  /** One blocking round trip through the broker: it fetches while this thread waits. */
  private fetchSync(req: ModuleRequest): ModuleReply {
    const { broker } = this.deps;
    const flag = new Int32Array(broker.syncFlag);
    const id = this.nextId++;
    Atomics.store(flag, 0, 0);
    broker.modulesPort.postMessage({ id, req });
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    for (;;) {
      const got = receiveMessageOnPort(broker.modulesPort) as { message: { id: number; reply: ModuleReply } } | undefined;
      if (got) {
        if (got.message.id === id) return got.message.reply;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`timed out after ${SYNC_TIMEOUT_MS / 1000} s fetching module ${req.spec} for ${req.parent}`);
      Atomics.wait(flag, 0, 0, Math.min(left, 1000));
      Atomics.store(flag, 0, 0);
    }
  }

  private ensureHooks(): Promise<void> {
    return (this.hooksReady ??= (async () => {
      const register = (nodeModule as { register?: typeof nodeModule.register }).register;
      if (!register) throw new MitogenError(`import() forwarding needs module.register (Node >= 18.19 or 20.6); this is ${process.version}`);
      const { port1, port2 } = new MessageChannel();
      await this.deps.broker.addModulePort(port2);
      register(`data:text/javascript,${encodeURIComponent(this.deps.hooksSource)}`, {
        data: { port: port1 }, transferList: [port1],
      });
    })());
  }
}

type CommonJsWrapper = (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => void;

/**
 * A forwarded CommonJS module's source as the function Node would wrap it
 * in, compiled by Node's own CommonJS loader (Module#_compile) so that an
 * `import()` inside it works as in any CommonJS file: a function compiled
 * by vm cannot import() on Node 20 without --experimental-vm-modules. The
 * wrapper's head shares the first line, so line numbers are the file's.
 */
function compileCommonJs(text: string, filename: string): CommonJsWrapper {
  // A hashbang is only allowed at the very start of a script.
  const body = text.startsWith('#!') ? `//${text.slice(2)}` : text;
  const holder = new nodeModule(filename) as nodeModule & { _compile(content: string, filename: string): unknown };
  holder.filename = filename;
  holder._compile(`module.exports = function (exports, require, module, __filename, __dirname) {${body}\n};`, filename);
  return holder.exports as CommonJsWrapper;
}
