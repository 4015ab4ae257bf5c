/**
 * ModuleActor: module forwarding, in the broker worker of every context.
 *
 * In the master it answers GET_MODULE from the master's own files: it
 * resolves a specifier exactly as the master would and sends the source
 * (TypeScript transpiled on the way). In every other context it asks its
 * parent and keeps what it got, so a second grandchild asking for the same
 * module is answered from the cache without going further up — Mitogen's
 * intermediate-cache behaviour.
 */
import { loadModule, resolveModule } from '../src/module-resolver.js';
import type { ModuleFormat } from '../src/module-resolver.js';
import { PACKAGE_PARENT } from './forwarded-require.js';
import { refusal } from '../src/module-policy.js';
import type { ModulePolicy } from '../src/module-policy.js';

export interface ModuleRequest {
  spec: string;
  parent: string;
  kind: 'import' | 'require';
}

export type ModuleReply =
  | { url: string; format: ModuleFormat; source?: Uint8Array }
  | { error: string; code: string };

export interface ModuleSource {
  /** Resolves and loads one module (the master's files) or asks the parent. */
  fetch(req: ModuleRequest): Promise<ModuleReply>;
}

export class ModuleActor {
  private readonly cache = new Map<string, Promise<ModuleReply>>();
  /** How many requests were answered from the cache, for tests and stats. */
  hits = 0;
  misses = 0;

  constructor(private readonly source: ModuleSource) {}

  /** Forgets what was served (the policy changed). */
  clear(): void {
    this.cache.clear();
  }

  get(req: ModuleRequest): Promise<ModuleReply> {
    const key = `${req.kind}\0${req.parent}\0${req.spec}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const p = this.source.fetch(req).catch((e: Error & { code?: string }): ModuleReply => ({
      error: e.message, code: e.code ?? 'ERR_MODULE_FORWARDING',
    }));
    this.cache.set(key, p);
    // Failures are not cached: the file may appear later.
    void p.then((r) => { if ('error' in r) this.cache.delete(key); });
    return p;
  }
}

/** The master's source: its own disk. */
export function masterModuleSource(esbuildPath: string | undefined, moduleBase: string | undefined, policy: () => ModulePolicy): ModuleSource {
  const transpile = async (source: string, url: string, format: 'module' | 'commonjs'): Promise<string> => {
    if (!esbuildPath) throw new Error(`cannot transpile ${url}: esbuild was not found in the master`);
    // esbuild is resolved by the master's main thread; this worker was eval'd, so require by path.
    const esbuild = require(esbuildPath) as typeof import('esbuild');
    const out = await esbuild.transform(source, {
      loader: url.endsWith('x') ? 'tsx' : 'ts', format: format === 'module' ? 'esm' : 'cjs',
      target: 'node18', sourcefile: url, sourcemap: 'inline',
    });
    return out.code;
  };
  return {
    async fetch(req) {
      // The runtime's own packages (ssh2 for a broker) resolve from where mitogen-ts is installed.
      const parent = req.parent === PACKAGE_PARENT && moduleBase ? moduleBase : req.parent;
      const r = resolveModule(req.spec, parent, req.kind);
      if (r.format === 'builtin') return r;
      const why = refusal(policy(), r.url);
      if (why) return { error: `Refusing to serve ${r.url} (${req.spec}): ${why}`, code: 'ERR_MODULE_REFUSED' };
      return await loadModule(r.url, transpile);
    },
  };
}
