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
import type { DepEdge, ModuleEntry, ModuleKind, ModuleOutcome } from '../modules/module-wire.js';
import type { ModuleSource } from '../../actors/module-actor.js';
import { fail, ok } from '../wire/outcome.js';
import { PACKAGE_PARENT } from '../../actors/ssh2/forwarded-require.js';
import { refusal } from '../modules/module-policy.js';
import type { MasterSourceOptions } from '../../actors/module-serving.js';
import { formatOf, loadModule, resolveModule } from './module-resolver.js';
import { cjsRenditionOf, fileUrlOf, isCjsRendition } from './esm-as-cjs.js';

type Esbuild = typeof import('esbuild');
interface CjsLexer { parse(source: string, name?: string): { exports: string[]; reexports: string[] } }

/** A literal specifier in a file; `dynamic` for import(), which stays an import when the file is made CommonJS. */
interface Found { kind: ModuleKind; spec: string; dynamic?: true }

export function masterModuleSource(o: MasterSourceOptions): ModuleSource {
  // esbuild is resolved by the master's main thread; this worker was eval'd, so require by path.
  const esbuild = (): Esbuild | undefined => (o.esbuildPath ? createRequire(o.esbuildPath)(o.esbuildPath) as Esbuild : undefined);
  // Node's own CommonJS export lexer: its WebAssembly build (the ESM entry), else the JavaScript one.
  let lexer: Promise<CjsLexer | undefined> | undefined;
  const cjsLexer = (): Promise<CjsLexer | undefined> => (lexer ??= (async () => {
    if (!o.moduleBase) return undefined;
    const req = createRequire(o.moduleBase);
    try {
      // The package's `exports` hide package.json; its default entry (lexer.js) sits at the package root.
      const dir = dirname(req.resolve('cjs-module-lexer'));
      const wasm = await import(pathToFileURL(`${dir}/dist/lexer.mjs`).href) as CjsLexer & { init(): Promise<void> };
      await wasm.init();
      return wasm;
    } catch {
      return req('cjs-module-lexer') as CjsLexer;
    }
  })());
  const transpile = async (source: string, url: string, format: 'module' | 'commonjs'): Promise<string> => {
    const e = esbuild();
    if (!e) throw new Error(`cannot transpile ${url}: esbuild was not found in the master`);
    const out = await e.transform(source, {
      loader: url.endsWith('x') ? 'tsx' : 'ts', format: format === 'module' ? 'esm' : 'cjs',
      target: 'node18', sourcefile: url, sourcemap: 'inline',
    });
    return out.code;
  };

  /** An ES module's source as CommonJS (for require() on a Node that cannot require ES modules). */
  const toCommonJs = async (source: string, url: string): Promise<string> => {
    const e = esbuild();
    if (!e) throw new Error(`cannot convert ${url} to CommonJS: esbuild was not found in the master`);
    try {
      // platform node: esbuild annotates the export names, which cjs-module-lexer reads.
      const out = await e.transform(source, { loader: 'js', format: 'cjs', platform: 'node', target: 'node18', sourcefile: url, sourcemap: 'inline' });
      return out.code;
    } catch (err) {
      const why = /top-level await/i.test((err as Error).message) ? 'it uses top-level await' : (err as Error).message.split('\n')[0];
      throw Object.assign(new Error(`require() of ES module ${url} is not possible here (Node ${process.versions.node.split('.')[0]} cannot require ES modules, and converting it failed: ${why}); import() it instead`), { code: 'ERR_REQUIRE_ESM' });
    }
  };

  const refused = (url: string, spec: string): ModuleOutcome<never> | undefined => {
    const why = refusal(o.policy(), url);
    return why ? fail({ code: 'ERR_MODULE_REFUSED', message: `Refusing to serve ${url} (${spec}): ${why}` }) : undefined;
  };

  /** Where each edge resolves (or why not), kept: the closure and the entries both ask. The policy is applied at each use. */
  const resolved = new Map<string, ModuleOutcome<string>>();
  const resolveEdge = (from: string, f: Found): ModuleOutcome<string> => {
    const key = `${f.kind}\0${from}\0${f.spec}`;
    let r = resolved.get(key);
    if (r === undefined) {
      try {
        const to = resolveModule(f.spec, fileUrlOf(from), f.kind);
        // require() of an ES module source: its CommonJS rendition.
        r = ok(f.kind === 'require' && to.format === 'module' && SERVED_URL.test(to.url) ? cjsRenditionOf(to.url) : to.url);
      } catch (e) {
        r = fail({ code: (e as { code?: string }).code ?? 'ERR_MODULE_NOT_FOUND', message: (e as Error).message });
      }
      resolved.set(key, r);
    }
    return r;
  };

  /** One edge out of `from`, as the child would ask for it. Refused modules are left out: the child asks, and is told. */
  const edge = (from: string, f: Found): DepEdge | undefined => {
    const r = resolveEdge(from, f);
    if (!r.ok) return [f.kind, f.spec, null, r.why.code, r.why.message];
    const url = r.value;
    if (url.startsWith('node:')) return undefined;
    if (url.endsWith('.node')) {
      // Native addons never travel; packages that require one treat the failure as optional (ssh2, cpu-features).
      return [f.kind, f.spec, null, 'ERR_MODULE_NOT_FOUND', `Cannot find module '${f.spec}': native addons are not forwarded (${url})`];
    }
    return refusal(o.policy(), url) ? undefined : [f.kind, f.spec, url];
  };

  const exportsOf = (lx: CjsLexer | undefined, text: string, url: string, depth = 0, seen = new Set<string>()): string[] | undefined => {
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
        for (const n of exportsOf(lx, src, r.url, depth + 1, seen) ?? []) names.add(n);
      } catch { /* an unresolvable re-export adds nothing, as in Node */ }
    }
    names.delete('default');
    return [...names];
  };

  const entry = (lx: CjsLexer | undefined, url: string, m: Awaited<ReturnType<typeof loadModule>>, found: Found[]): ModuleEntry => {
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
    if (m.format === 'commonjs') e.exports = exportsOf(lx, Buffer.from(m.source).toString('utf8'), url);
    return e;
  };

  /** The literal specifiers of every file a scan has parsed, by URL. */
  const found = new Map<string, Found[]>();
  /** Whether a scan should parse `url` too: a module source this master would serve. */
  const follow = (url: string): boolean => url.startsWith('file:') && SERVED_URL.test(fileUrlOf(url)) && !refusal(o.policy(), url);
  /** The edges of a CommonJS rendition: its file's, with static imports become require(). */
  const foundIn = (url: string): Found[] | undefined => {
    if (!isCjsRendition(url)) return found.get(url);
    return found.get(fileUrlOf(url))?.map((f) => (f.kind === 'import' && !f.dynamic ? { kind: 'require', spec: f.spec } : f));
  };
  /** Whether `url`'s edges are known (a rendition's are its file's). */
  const scanned = (url: string): boolean => found.has(fileUrlOf(url));

  // Scans run one at a time: a request that arrives while a prefetch scans the
  // same graph waits for it and finds its files parsed, instead of parsing them again.
  let scans: Promise<unknown> = Promise.resolve();
  const scan = (urls: string[], call?: CallSource): Promise<Found[]> => {
    const run = scans.then(() => {
      const unscanned = [...new Set(urls.filter((u) => !scanned(u)).map(fileUrlOf))];
      return unscanned.length || call ? scanGraph(esbuild(), unscanned, found, follow, call) : [];
    });
    scans = run.catch(() => {});
    return run;
  };
  /** Modules being loaded (read, transpiled), so a prefetch and a request share the work. */
  const loading = new Map<string, Promise<ModuleOutcome<ModuleEntry>>>();

  let warmed = false;
  return {
    warm() {
      if (warmed) return;
      warmed = true;
      // esbuild's service process and the lexer's WebAssembly, started before the first request needs them.
      void Promise.resolve().then(async () => {
        await esbuild()?.transform('', {});
        await cjsLexer();
      }).catch(() => { /* the first request will say what is wrong */ });
    },
    async resolve(req) {
      // The runtime's own packages (ssh2 for a broker) resolve from where mitogen-ts is installed.
      const parent = req.parent === PACKAGE_PARENT && o.moduleBase ? o.moduleBase : req.parent;
      const r = resolveModule(req.spec, parent, req.kind);
      if (r.format === 'builtin') return ok(r.url);
      return refused(r.url, req.spec) ?? ok(r.url);
    },
    async closure(root) {
      const order: string[] = [];
      const seen = new Set([root]);
      for (let level = [root]; level.length;) {
        if (level.some((u) => !scanned(u))) await scan(level);
        const next: string[] = [];
        for (const u of level) {
          for (const f of foundIn(u) ?? []) {
            const t = edge(u, f)?.[2];
            if (t && follow(t) && !seen.has(t)) { seen.add(t); next.push(t); order.push(t); }
          }
        }
        level = next;
      }
      return order;
    },
    async entries(urls) {
      if (urls.some((u) => !scanned(u))) await scan(urls);
      const lx = await cjsLexer();
      return Promise.all(urls.map((u) => {
        let p = loading.get(u);
        if (!p) {
          p = (async (): Promise<ModuleOutcome<ModuleEntry>> => {
            try {
              if (!isCjsRendition(u)) return ok(entry(lx, u, await loadModule(u, transpile), found.get(u) ?? []));
              const file = fileUrlOf(u);
              const m = await loadModule(file, transpile);
              const code = await toCommonJs(Buffer.from(m.source).toString('utf8'), file);
              return ok(entry(lx, u, { url: u, format: 'commonjs', source: new TextEncoder().encode(code) }, foundIn(u) ?? []));
            } catch (e) {
              return fail({ code: (e as { code?: string }).code ?? 'ERR_MODULE_FORWARDING', message: (e as Error).message });
            }
          })().finally(() => loading.delete(u));
          loading.set(u, p);
        }
        return p;
      }));
    },
    async callImports(source, caller) {
      if (!caller.startsWith('file:')) return [];
      const imports = await scan([], { source, caller });
      return imports.map((f) => ({ kind: f.kind, spec: f.spec, parent: caller }));
    },
  };
}

const KINDS: Readonly<Record<string, ModuleKind>> = {
  'import-statement': 'import', 'dynamic-import': 'import', 'require-call': 'require',
};

const SERVED_URL = /\.(?:[cm]?[jt]s|json)$/;
const TYPESCRIPT_URL = /\.[cm]?ts$/;

/**
 * Parses `roots` and everything they reach: esbuild walks the graph natively
 * (in parallel, in Go) and its metafile lists each file's imports with the
 * specifier as written. The edges themselves are resolved afterwards by the
 * master's own resolver, so an edge is exactly what the child will ask for;
 * where esbuild's walk and the resolver disagree, the file the resolver names
 * is scanned when it is next needed. A graph esbuild cannot walk (an import
 * of something missing) is scanned again file by file, each specifier
 * followed by the resolver.
 */
async function scanGraph(esbuild: Esbuild | undefined, roots: string[], found: Map<string, Found[]>, follow: (url: string) => boolean, call?: CallSource): Promise<Found[]> {
  const fromCall: Found[] = [];
  const mark = (u: string): Found[] => {
    let list = found.get(u);
    if (!list) found.set(u, list = []);
    return list;
  };
  const record = (from: string, esbuildKind: string, spec: string): ModuleKind | undefined => {
    let kind = KINDS[esbuildKind];
    if (!kind) return undefined;
    // TypeScript transpiled to CommonJS runs its static imports as require().
    if (esbuildKind === 'import-statement' && TYPESCRIPT_URL.test(from) && formatOf(from) === 'commonjs') kind = 'require';
    mark(from).push(esbuildKind === 'dynamic-import' ? { kind, spec, dynamic: true } : { kind, spec });
    return kind;
  };
  const files = roots.filter((u) => u.startsWith('file:') && SERVED_URL.test(u));
  if (!esbuild || (!files.length && !call)) { roots.forEach(mark); return fromCall; }
  const common = {
    bundle: true, write: false, outdir: '/mitogen-ts-scan', platform: 'node', format: 'esm', target: 'esnext',
    logLevel: 'silent', tsconfigRaw: {}, absWorkingDir: '/', loader: { '.node': 'empty' },
  } as const;
  try {
    const r = await esbuild.build({
      ...common, metafile: true,
      // A call's source alone: its specifiers are resolved by our resolver, then scanned as any request's are.
      ...(call
        ? { stdin: { contents: `(${call.source});`, resolveDir: dirname(fileURLToPath(call.caller)), sourcefile: CALL_INPUT, loader: 'js' }, external: ['*'] }
        : { entryPoints: files.map((u) => fileURLToPath(u)) }),
    });
    for (const [path, input] of Object.entries(r.metafile.inputs)) {
      // `<runtime>` is esbuild's own helper module, imported by its output, not by the file.
      const imports = input.imports.filter((i) => i.path !== '<runtime>');
      // esbuild names the call's source by its resolve directory: `dir/<mitogen-ts call>`.
      if (call && (path === CALL_INPUT || path.endsWith(`/${CALL_INPUT}`))) {
        for (const i of imports) { const kind = KINDS[i.kind]; if (kind) fromCall.push({ kind, spec: i.original ?? i.path }); }
        continue;
      }
      if (path.includes(':')) continue; // esbuild's own namespaces
      const from = pathToFileURL(`/${path}`).href;
      mark(from);
      for (const i of imports) record(from, i.kind, i.original ?? i.path);
    }
  } catch {
    // A call's imports are found again when the child asks for them.
    if (call) return fromCall;
    // Slower, and sure: every specifier resolved by the master's resolver as esbuild finds it.
    for (const u of files) found.delete(u);
    await esbuild.build({
      ...common, entryPoints: files.map((u) => fileURLToPath(u)),
      plugins: [{
        name: 'mitogen-ts-scan',
        setup(b) {
          b.onLoad({ filter: /.*/ }, (args) => { mark(pathToFileURL(args.path).href); return undefined; });
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === 'entry-point') return undefined;
            const external = { path: args.path, external: true };
            if (!args.importer) return external;
            const from = pathToFileURL(args.importer).href;
            const kind = record(from, args.kind, args.path);
            if (!kind) return external;
            let url: string;
            try { url = resolveModule(args.path, from, kind).url; } catch { return external; }
            return follow(url) && !found.has(url) ? { path: fileURLToPath(url) } : external;
          });
        },
      }],
    }).catch(() => {});
  }
  roots.forEach(mark);
  return fromCall;
}

/** A function's source about to be called, and the module that calls it (against which its imports resolve). */
interface CallSource { source: string; caller: string }
/** The name esbuild gives a scanned call's source. */
const CALL_INPUT = '<mitogen-ts call>';
