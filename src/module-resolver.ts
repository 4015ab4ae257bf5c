/**
 * The master's side of module forwarding: resolve a specifier exactly as the
 * master itself would (Node's CommonJS and ESM rules, package `exports` with
 * the right conditions), and load the file — TypeScript transpiled on the
 * way. Runs in the master's broker worker; only Node builtins here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ModuleFormat = 'module' | 'commonjs' | 'json' | 'builtin';
export interface ResolvedModule { url: string; format: ModuleFormat }
export interface LoadedModule extends ResolvedModule { source: Uint8Array }
export type Transpile = (source: string, url: string, format: 'module' | 'commonjs') => Promise<string>;

export class ModuleNotFoundError extends Error {
  readonly code = 'ERR_MODULE_NOT_FOUND' as const;
  constructor(readonly specifier: string, readonly parentUrl: string, detail = '') {
    super(`Cannot find module '${specifier}' imported from ${parentUrl}${detail ? ` (${detail})` : ''}`);
  }
}

export class ModuleRefusedError extends Error {
  readonly code = 'ERR_MODULE_REFUSED' as const;
  constructor(readonly url: string, why: string) {
    super(`refusing to serve ${url}: ${why}`);
  }
}

const SERVED = /\.(js|mjs|cjs|json|ts|mts|cts)$/;
const TS = /\.[cm]?ts$/;
const ESM_CONDITIONS = new Set(['node', 'import', 'default']);
const packageJsonCache = new Map<string, PackageJson | null>();

interface PackageJson { type?: string; main?: string; exports?: unknown; name?: string }

function readPackageJson(dir: string): PackageJson | null {
  const file = join(dir, 'package.json');
  let pj = packageJsonCache.get(file);
  if (pj !== undefined) return pj;
  try {
    pj = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    pj = null;
  }
  packageJsonCache.set(file, pj);
  return pj;
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

function toPath(urlOrPath: string): string {
  return urlOrPath.startsWith('file:') ? fileURLToPath(urlOrPath) : urlOrPath;
}

/** By extension, and for .js/.ts by the nearest package.json "type". */
export function formatOf(url: string): ModuleFormat {
  if (url.startsWith('node:')) return 'builtin';
  if (/\.m[jt]s$/.test(url)) return 'module';
  if (/\.c[jt]s$/.test(url)) return 'commonjs';
  if (url.endsWith('.json')) return 'json';
  for (let dir = dirname(toPath(url)); ; dir = dirname(dir)) {
    const pj = readPackageJson(dir);
    if (pj) return pj.type === 'module' ? 'module' : 'commonjs';
    if (dirname(dir) === dir) return 'commonjs';
  }
}

function builtin(specifier: string): ResolvedModule | null {
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return builtinModules.includes(name) ? { url: `node:${name}`, format: 'builtin' } : null;
}

function resolved(path: string): ResolvedModule {
  const url = pathToFileURL(path).href;
  return { url, format: formatOf(url) };
}

export function resolveModule(specifier: string, parentUrl: string, kind: 'import' | 'require'): ResolvedModule {
  const b = builtin(specifier);
  if (b) return b;
  const parentPath = toPath(parentUrl);
  if (kind === 'require') {
    try {
      return resolved(createRequire(parentPath).resolve(toPath(specifier)));
    } catch {
      throw new ModuleNotFoundError(specifier, parentUrl);
    }
  }
  if (/^(\.{0,2}\/|file:)/.test(specifier)) return resolveFile(specifier, parentUrl);
  if (specifier.startsWith('#')) throw new ModuleNotFoundError(specifier, parentUrl, 'package imports (#) are not forwarded');
  return resolvePackage(specifier, parentPath, parentUrl);
}

/** ESM: exact files only, plus TypeScript's convention that `x.js` names `x.ts`. */
function resolveFile(specifier: string, parentUrl: string): ResolvedModule {
  const base = parentUrl.startsWith('file:') ? parentUrl : pathToFileURL(parentUrl).href;
  const path = fileURLToPath(new URL(specifier, base));
  if (isFile(path)) return resolved(path);
  const ts = path.replace(/\.(m|c)?js$/, '.$1ts');
  if (ts !== path && isFile(ts)) return resolved(ts);
  if (existsSync(path)) throw new ModuleNotFoundError(specifier, parentUrl, 'directory import is not supported in ESM');
  throw new ModuleNotFoundError(specifier, parentUrl);
}

function resolvePackage(specifier: string, parentPath: string, parentUrl: string): ResolvedModule {
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  for (let dir = dirname(parentPath); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    const pj = readPackageJson(pkgDir);
    if (pj) {
      if (pj.exports !== undefined && pj.exports !== null) {
        const target = exportsTarget(pj.exports, subpath);
        if (!target) throw new ModuleNotFoundError(specifier, parentUrl, `subpath ${subpath} is not exported by ${name}`);
        const path = join(pkgDir, target);
        if (!isFile(path)) throw new ModuleNotFoundError(specifier, parentUrl, `${name} exports ${target}, which does not exist`);
        return resolved(path);
      }
      if (subpath !== '.') {
        const path = join(pkgDir, subpath);
        if (isFile(path)) return resolved(path);
        throw new ModuleNotFoundError(specifier, parentUrl);
      }
      for (const candidate of legacyMain(pj.main)) {
        const path = join(pkgDir, candidate);
        if (isFile(path)) return resolved(path);
      }
      throw new ModuleNotFoundError(specifier, parentUrl, `${name} has no usable main`);
    }
    if (dirname(dir) === dir) throw new ModuleNotFoundError(specifier, parentUrl);
  }
}

function legacyMain(main: string | undefined): string[] {
  const m = main ? [main, `${main}.js`, `${main}.json`, `${main}/index.js`] : [];
  return [...m, 'index.js'];
}

/** Node's PACKAGE_EXPORTS_RESOLVE for the conditions node, import, default. */
function exportsTarget(exports: unknown, subpath: string): string | null {
  const isConditions = typeof exports === 'object' && exports !== null && !Array.isArray(exports)
    && !Object.keys(exports).some((k) => k.startsWith('.'));
  const map: Record<string, unknown> = typeof exports === 'string' || Array.isArray(exports) || isConditions
    ? { '.': exports } : exports as Record<string, unknown>;
  if (subpath in map && !subpath.includes('*')) return conditionTarget(map[subpath], '');
  let best: { key: string; star: string } | null = null;
  for (const key of Object.keys(map)) {
    const i = key.indexOf('*');
    if (i < 0) continue;
    const pre = key.slice(0, i);
    const post = key.slice(i + 1);
    if (subpath.startsWith(pre) && subpath.endsWith(post) && subpath.length >= key.length) {
      if (!best || pre.length > best.key.indexOf('*')) best = { key, star: subpath.slice(pre.length, subpath.length - post.length) };
    }
  }
  return best ? conditionTarget(map[best.key], best.star) : null;
}

function conditionTarget(target: unknown, star: string): string | null {
  if (typeof target === 'string') return target.replaceAll('*', star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = conditionTarget(t, star);
      if (r) return r;
    }
    return null;
  }
  if (target && typeof target === 'object') {
    for (const [cond, sub] of Object.entries(target)) {
      if (ESM_CONDITIONS.has(cond)) {
        const r = conditionTarget(sub, star);
        if (r) return r;
      }
    }
  }
  return null;
}

/** Reads a file to serve; TypeScript goes through `transpile`. Refuses anything but module sources. */
export async function loadModule(url: string, transpile?: Transpile): Promise<LoadedModule> {
  if (!url.startsWith('file:')) throw new ModuleRefusedError(url, 'only file: URLs are served');
  const path = fileURLToPath(url);
  if (!existsSync(path)) throw new ModuleNotFoundError(url, url);
  if (!isFile(path)) throw new ModuleRefusedError(url, 'not a regular file');
  if (!SERVED.test(path)) throw new ModuleRefusedError(url, 'not a JavaScript, TypeScript or JSON source');
  const format = formatOf(url);
  let text = readFileSync(path, 'utf8');
  if (TS.test(path)) {
    if (!transpile) throw new Error(`cannot serve ${url}: TypeScript sources need a transpiler`);
    text = await transpile(text, url, format === 'commonjs' ? 'commonjs' : 'module');
  }
  return { url, format, source: new TextEncoder().encode(text) };
}
