/**
 * The master's module source: its own disk. It resolves a request exactly as
 * the master would, applies the module policy, and builds each module's
 * table entry: the source (TypeScript transpiled), the static edges out of
 * it, each resolved by the same resolver, and a CommonJS module's export
 * names.
 *
 * Edges are found by parsing, never by pattern: esbuild parses every file
 * (JavaScript of either module system, TypeScript, JSON) and reports each
 * static import, re-export, `import()` and `require()` with a literal
 * specifier; export names come from cjs-module-lexer, the parser Node itself
 * uses for CommonJS seen from ESM. A computed specifier is not an edge: the
 * child asks for it when it runs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DepEdge, ModuleEntry, ModuleFailure, ModuleKind } from '../actors/module-wire.js';
import type { ModuleSource } from '../actors/module-actor.js';
import { PACKAGE_PARENT } from '../actors/forwarded-require.js';
import { refusal } from './module-policy.js';
import type { ModulePolicy } from './module-policy.js';
import { loadModule, resolveModule } from './module-resolver.js';

type Esbuild = typeof import('esbuild');
interface CjsLexer { initSync?(): void; parse(source: string, name?: string): { exports: string[]; reexports: string[] } }

interface Found { kind: ModuleKind; spec: string }

export interface MasterSourceOptions {
  esbuildPath?: string;
  /** Where mitogen-ts is installed: the parent of the runtime's own packages, and of cjs-module-lexer. */
  moduleBase?: string;
  policy(): ModulePolicy;
}

export function masterModuleSource(o: MasterSourceOptions): ModuleSource {
  // esbuild is resolved by the master's main thread; this worker was eval'd, so require by path.
  const esbuild = (): Esbuild | undefined => (o.esbuildPath ? require(o.esbuildPath) as Esbuild : undefined);
  let lexer: CjsLexer | undefined;
  const cjsLexer = (): CjsLexer | undefined => {
    if (!lexer && o.moduleBase) {
      lexer = createRequire(o.moduleBase)('cjs-module-lexer') as CjsLexer;
      lexer.initSync?.();
    }
    return lexer;
  };
  const transpile = async (source: string, url: string, format: 'module' | 'commonjs'): Promise<string> => {
    const e = esbuild();
    if (!e) throw new Error(`cannot transpile ${url}: esbuild was not found in the master`);
    const out = await e.transform(source, {
      loader: url.endsWith('x') ? 'tsx' : 'ts', format: format === 'module' ? 'esm' : 'cjs',
      target: 'node18', sourcefile: url, sourcemap: 'inline',
    });
    return out.code;
  };

  const refused = (url: string, spec: string): ModuleFailure | undefined => {
    const why = refusal(o.policy(), url);
    return why ? { error: `Refusing to serve ${url} (${spec}): ${why}`, code: 'ERR_MODULE_REFUSED' } : undefined;
  };

  /** One edge out of `from`, as the child would ask for it. Refused modules are left out: the child asks, and is told. */
  const edge = (from: string, f: Found): DepEdge | undefined => {
    let url: string;
    try {
      url = resolveModule(f.spec, from, f.kind).url;
    } catch (e) {
      return [f.kind, f.spec, null, (e as { code?: string }).code ?? 'ERR_MODULE_NOT_FOUND', (e as Error).message];
    }
    if (url.startsWith('node:')) return undefined;
    if (url.endsWith('.node')) {
      // Native addons never travel; packages that require one treat the failure as optional (ssh2, cpu-features).
      return [f.kind, f.spec, null, 'ERR_MODULE_NOT_FOUND', `Cannot find module '${f.spec}': native addons are not forwarded (${url})`];
    }
    return refused(url, f.spec) ? undefined : [f.kind, f.spec, url];
  };

  const exportsOf = (text: string, url: string, depth = 0, seen = new Set<string>()): string[] | undefined => {
    const lx = cjsLexer();
    if (!lx) return undefined;
    let parsed: { exports: string[]; reexports: string[] };
    try { parsed = lx.parse(text, fileURLToPath(url)); } catch { return []; }
    const names = new Set(parsed.exports);
    // Node follows `module.exports = require('x')` re-exports; so do we, a few levels deep.
    for (const re of depth < 8 ? parsed.reexports : []) {
      try {
        const r = resolveModule(re, url, 'require');
        if (r.format !== 'commonjs' || seen.has(r.url)) continue;
        seen.add(r.url);
        const src = readFileSync(fileURLToPath(r.url), 'utf8');
        for (const n of exportsOf(src, r.url, depth + 1, seen) ?? []) names.add(n);
      } catch { /* an unresolvable re-export adds nothing, as in Node */ }
    }
    names.delete('default');
    return [...names];
  };

  const entry = (url: string, m: Awaited<ReturnType<typeof loadModule>>, found: Found[]): ModuleEntry => {
    if (m.format === 'builtin') throw new Error(`${url} is a builtin`);
    const deps: DepEdge[] = [];
    const once = new Set<string>();
    for (const f of found) {
      const key = `${f.kind}\0${f.spec}`;
      if (once.has(key)) continue;
      once.add(key);
      const d = edge(url, f);
      if (d) deps.push(d);
    }
    const e: ModuleEntry = { url, format: m.format, source: m.source, deps };
    if (m.format === 'commonjs') e.exports = exportsOf(Buffer.from(m.source).toString('utf8'), url);
    return e;
  };

  return {
    async resolve(req) {
      // The runtime's own packages (ssh2 for a broker) resolve from where mitogen-ts is installed.
      const parent = req.parent === PACKAGE_PARENT && o.moduleBase ? o.moduleBase : req.parent;
      const r = resolveModule(req.spec, parent, req.kind);
      if (r.format === 'builtin') return r.url;
      return refused(r.url, req.spec) ?? r.url;
    },
    async entries(urls) {
      const loaded = await Promise.all(urls.map((u) => loadModule(u, transpile).catch((e: Error & { code?: string }): ModuleFailure => ({
        error: e.message, code: e.code ?? 'ERR_MODULE_FORWARDING',
      }))));
      // What is scanned is what the child will run: TypeScript after transpiling (an import may become a require).
      const served = new Map<string, Uint8Array>();
      loaded.forEach((m, i) => { if (!('error' in m) && TYPESCRIPT_URL.test(urls[i]!)) served.set(urls[i]!, m.source); });
      const found = await scan(esbuild(), urls.filter((u, i) => !('error' in loaded[i]!) && !served.has(u)), served);
      return urls.map((u, i) => {
        const m = loaded[i]!;
        return 'error' in m ? m : entry(u, m, found.get(u) ?? []);
      });
    },
  };
}

const KINDS: Readonly<Record<string, ModuleKind>> = {
  'import-statement': 'import', 'dynamic-import': 'import', 'require-call': 'require',
};

const TYPESCRIPT_URL = /\.[cm]?ts$/;

/**
 * The literal specifiers each file imports, by URL: one esbuild pass over the
 * files on disk (and one per already-transpiled source), every import marked
 * external so only these files are parsed.
 */
async function scan(esbuild: Esbuild | undefined, urls: string[], sources: Map<string, Uint8Array>): Promise<Map<string, Found[]>> {
  const out = new Map<string, Found[]>();
  if (!esbuild) return out;
  const files = urls.filter((u) => u.startsWith('file:') && /\.(?:[cm]?js|json)$/.test(u));
  const recorder = (importerUrl?: string): import('esbuild').Plugin => ({
    name: 'mitogen-ts-scan',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const kind = KINDS[args.kind];
        const from = importerUrl ?? (args.importer ? pathToFileURL(args.importer).href : undefined);
        if (kind && from) {
          let list = out.get(from);
          if (!list) out.set(from, list = []);
          list.push({ kind, spec: args.path });
        }
        return { path: args.path, external: true };
      });
    },
  });
  const options = {
    bundle: true, write: false, outdir: '/mitogen-ts-scan', platform: 'node', format: 'esm',
    target: 'esnext', logLevel: 'silent', tsconfigRaw: {},
  } as const;
  const fromDisk = (paths: string[]) => esbuild.build({ ...options, entryPoints: paths, plugins: [recorder()] });
  if (files.length) {
    try {
      await fromDisk(files.map((u) => fileURLToPath(u)));
    } catch {
      // One file esbuild cannot parse must not cost the others their edges.
      for (const u of files) {
        out.delete(u);
        await fromDisk([fileURLToPath(u)]).catch(() => out.delete(u));
      }
    }
  }
  await Promise.all([...sources].map(async ([u, src]) => {
    const path = fileURLToPath(u);
    await esbuild.build({
      ...options, plugins: [recorder(u)],
      stdin: { contents: Buffer.from(src).toString('utf8'), loader: 'js', sourcefile: path, resolveDir: dirname(path) },
    }).catch(() => out.delete(u));
  }));
  return out;
}
