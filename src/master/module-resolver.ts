/**
 * The master's side of module forwarding: resolve a specifier exactly as the
 * master itself would (Node's CommonJS and ESM rules, package `exports` with
 * the right conditions), and load the file, TypeScript transpiled on the way.
 *
 * A child that cannot find a module asks the master, so the answer must be
 * the one Node would give the master; the rules below follow Node's own
 * resolver (lib/internal/modules/esm/resolve.js) step by step. It runs in the
 * master's broker worker, so synchronous fs is fine and only builtins are used.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModuleFormat } from '../modules/module-wire.js';

export type { ModuleFormat };
export interface ResolvedModule { url: string; format: ModuleFormat }
/** `source` is UTF-8 bytes, after transpiling. */
export interface LoadedModule extends ResolvedModule { source: Uint8Array }
export type Transpile = (source: string, url: string, format: 'module' | 'commonjs') => Promise<string>;

export class ModuleNotFoundError extends Error {
  override readonly name = 'ModuleNotFoundError';
  readonly code = 'ERR_MODULE_NOT_FOUND' as const;
  /** `parentUrl` may be '' when there is no importer (loading a URL directly). */
  constructor(readonly specifier: string, readonly parentUrl: string, detail?: string, options?: ErrorOptions) {
    const from = parentUrl ? ` imported from ${displayPath(parentUrl)}` : '';
    super(`Cannot find module '${specifier}'${from}${detail ? `: ${detail}` : ''}`, options);
  }
}

/** A file the responder will not serve: not a module source, or not a regular file. */
export class ModuleRefusedError extends Error {
  override readonly name = 'ModuleRefusedError';
  readonly code = 'ERR_MODULE_REFUSED' as const;
  constructor(readonly url: string, why: string) {
    super(`Refusing to serve ${url}: ${why}`);
  }
}

/** Extensions of files the master will hand out; everything else on its disk stays there. */
const SERVED = new Set(['.js', '.mjs', '.cjs', '.json', '.ts', '.mts', '.cts']);
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);
/** Node's default conditions for `import` (without --conditions). */
const IMPORT_CONDITIONS = new Set(['node', 'import', 'default']);

// ---------------------------------------------------------------- package.json

interface PackageJson { type?: unknown; main?: unknown; exports?: unknown }

/** Like Node, read each package.json once per process; `null` records "there is none". */
const packageJsonCache = new Map<string, PackageJson | null>();

function readPackageJson(dir: string): PackageJson | null {
  const file = join(dir, 'package.json');
  const cached = packageJsonCache.get(file);
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw e;
    packageJsonCache.set(file, null);
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // Node refuses to guess past a broken package.json, and so do we.
    throw invalidPackageConfig(file, (e as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidPackageConfig(file, 'it is not a JSON object');
  }
  const pj = parsed as PackageJson;
  packageJsonCache.set(file, pj);
  return pj;
}

function invalidPackageConfig(file: string, why: string): Error {
  return Object.assign(new Error(`Invalid package config ${file}: ${why}`), { code: 'ERR_INVALID_PACKAGE_CONFIG' });
}

// ---------------------------------------------------------------- formats

/**
 * By extension, and for .js/.ts (or anything else) by the nearest
 * package.json "type". `url` is a file: URL or an absolute path.
 */
export function formatOf(url: string): ModuleFormat {
  if (url.startsWith('node:')) return 'builtin';
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  switch (extname(path)) {
    case '.mjs': case '.mts': return 'module';
    case '.cjs': case '.cts': return 'commonjs';
    case '.json': return 'json';
    default: return packageType(dirname(path));
  }
}

/** Node's package scope lookup: the nearest package.json, never looking past a node_modules directory. */
function packageType(dir: string): 'module' | 'commonjs' {
  for (;;) {
    // A file in node_modules without its own package.json is not in the enclosing project's scope.
    if (basename(dir) === 'node_modules') return 'commonjs';
    const pj = readPackageJson(dir);
    if (pj) return pj.type === 'module' ? 'module' : 'commonjs';
    const up = dirname(dir);
    if (up === dir) return 'commonjs';
    dir = up;
  }
}

// ---------------------------------------------------------------- resolution

/**
 * Resolves `specifier` as `parentUrl` (a file: URL or absolute path) would:
 * with `require` semantics or with `import` semantics.
 * Throws ModuleNotFoundError when Node would fail.
 */
export function resolveModule(specifier: string, parentUrl: string, kind: 'import' | 'require'): ResolvedModule {
  if (isBuiltin(specifier)) {
    return { url: specifier.startsWith('node:') ? specifier : `node:${specifier}`, format: 'builtin' };
  }
  let parent: URL;
  if (parentUrl.startsWith('file:')) parent = new URL(parentUrl);
  else if (isAbsolute(parentUrl)) parent = pathToFileURL(parentUrl);
  else throw new ModuleNotFoundError(specifier, parentUrl, 'the parent must be a file: URL or an absolute path');
  const ctx: Ctx = { specifier, parentUrl };
  return kind === 'require' ? resolveRequire(ctx, parent) : resolveImport(ctx, parent);
}

/** What every error needs to name. */
interface Ctx { specifier: string; parentUrl: string }

function notFound(ctx: Ctx, detail?: string, options?: ErrorOptions): ModuleNotFoundError {
  return new ModuleNotFoundError(ctx.specifier, ctx.parentUrl, detail, options);
}

/** CommonJS: Node's own resolver, so extensions, directories, main and `exports` (require condition) are exactly Node's. */
function resolveRequire(ctx: Ctx, parent: URL): ResolvedModule {
  let path: string;
  try {
    // require() takes paths, not URLs; accept a file: URL as the path it names.
    const request = ctx.specifier.startsWith('file:') ? fileURLToPath(ctx.specifier) : ctx.specifier;
    path = createRequire(parent).resolve(request);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // Keep Node's reason when it is more than "not found" (e.g. a subpath not exported).
    const detail = err.code === 'MODULE_NOT_FOUND' ? undefined : err.message.split('\n')[0];
    throw notFound(ctx, detail, { cause: e });
  }
  const url = pathToFileURL(path).href;
  return { url, format: formatOf(url) };
}

function resolveImport(ctx: Ctx, parent: URL): ResolvedModule {
  const s = ctx.specifier;
  if (s === '.' || s === '..' || s.startsWith('./') || s.startsWith('../') || s.startsWith('/')) {
    return resolveFile(ctx, new URL(s, parent), true);
  }
  if (s.startsWith('#')) throw notFound(ctx, 'package imports (#...) are not supported');
  if (URL.canParse(s)) {
    const url = new URL(s);
    if (url.protocol === 'file:') return resolveFile(ctx, url, true);
    throw notFound(ctx, `${url.protocol} URLs cannot be resolved by the master`);
  }
  return resolvePackage(ctx, parent);
}

type Kind = 'file' | 'dir' | null;

function kindOf(path: string): Kind {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isFile() ? 'file' : st?.isDirectory() ? 'dir' : null;
  } catch {
    return null; // ENOTDIR, EACCES: not something we can import either way
  }
}

/**
 * ESM file resolution: the file must exist exactly (no extension search, no
 * directory index). With `tsMapping`, TypeScript's convention applies too:
 * `x.js` names `x.ts` when only the latter exists (.mjs → .mts, .cjs → .cts).
 */
function resolveFile(ctx: Ctx, url: URL, tsMapping: boolean): ResolvedModule {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (e) {
    throw notFound(ctx, (e as Error).message, { cause: e }); // e.g. an encoded '/' in the path
  }
  const kind = kindOf(path);
  if (kind === 'file') return finalize(path, url);
  if (tsMapping) {
    const ts = path.replace(/\.([mc]?)js$/, '.$1ts');
    if (ts !== path && kindOf(ts) === 'file') return finalize(ts, url);
  }
  if (kind === 'dir') throw notFound(ctx, `${path} is a directory, and ESM does not import directories`);
  throw notFound(ctx);
}

/** Like Node: the real path (symlinks resolved), keeping the specifier's ?query and #hash. */
function finalize(path: string, url: URL): ResolvedModule {
  const out = pathToFileURL(realpathSync(path));
  out.search = url.search;
  out.hash = url.hash;
  return { url: out.href, format: formatOf(out.href) };
}

/** `pkg`, `pkg/sub`, `@scope/pkg`, `@scope/pkg/sub` → the name and the subpath ('.' or './sub'). */
function parsePackageName(ctx: Ctx): { name: string; subpath: string } {
  const s = ctx.specifier;
  let slash = s.indexOf('/');
  if (s.startsWith('@')) slash = slash === -1 ? -2 : s.indexOf('/', slash + 1);
  const name = slash === -1 ? s : s.slice(0, slash);
  if (slash === -2 || name === '' || name.startsWith('.') || name.includes('\\') || name.includes('%')) {
    throw notFound(ctx, 'it is not a valid package specifier');
  }
  return { name, subpath: `.${slash === -1 ? '' : s.slice(slash)}` };
}

/** Walks up from the parent's directory; the first `node_modules/<name>` directory wins, as in Node. */
function resolvePackage(ctx: Ctx, parent: URL): ResolvedModule {
  const { name, subpath } = parsePackageName(ctx);
  for (let dir = fileURLToPath(new URL('.', parent)); ;) {
    const pkgDir = join(dir, 'node_modules', name);
    if (kindOf(pkgDir) === 'dir') return resolveInPackage(ctx, pkgDir, subpath);
    const up = dirname(dir);
    if (up === dir) throw notFound(ctx, `no package '${name}' in any node_modules above the parent`);
    dir = up;
  }
}

function resolveInPackage(ctx: Ctx, pkgDir: string, subpath: string): ResolvedModule {
  const pkgUrl = pathToFileURL(`${pkgDir}/`);
  const pj = readPackageJson(pkgDir) ?? {};
  if (pj.exports !== undefined && pj.exports !== null) {
    const target = exportsResolve({ ...ctx, pkgUrl, pjPath: join(pkgDir, 'package.json') }, pj.exports, subpath);
    return resolveFile(ctx, target, false);
  }
  if (subpath !== '.') return resolveFile(ctx, new URL(subpath, pkgUrl), false);
  return legacyMainResolve(ctx, pkgUrl, typeof pj.main === 'string' ? pj.main : undefined);
}

/**
 * Node's legacy main lookup for a package without `exports`. The .node
 * candidates are kept so we land where Node would; loadModule refuses them.
 */
function legacyMainResolve(ctx: Ctx, pkgUrl: URL, main: string | undefined): ResolvedModule {
  const candidates = main
    ? ['', '.js', '.json', '.node', '/index.js', '/index.json', '/index.node'].map((ext) => `./${main}${ext}`)
    : [];
  candidates.push('./index.js', './index.json', './index.node');
  for (const candidate of candidates) {
    const url = new URL(candidate, pkgUrl);
    const path = fileURLToPath(url);
    if (kindOf(path) === 'file') return finalize(path, url);
  }
  throw notFound(ctx, `package ${fileURLToPath(pkgUrl)} has no main file${main ? ` (main: ${main})` : ''}`);
}

// ---------------------------------------------------------------- package exports

interface ExportsCtx extends Ctx { pkgUrl: URL; pjPath: string }

/** A target Node calls invalid (ERR_INVALID_PACKAGE_TARGET); an array of fallbacks skips these. */
class InvalidTarget extends Error {}

/** Node's PACKAGE_EXPORTS_RESOLVE with the conditions node, import, default. */
function exportsResolve(ctx: ExportsCtx, exports: unknown, subpath: string): URL {
  const map = exportsMap(ctx, exports);
  let resolved: URL | null | undefined;
  try {
    if (Object.hasOwn(map, subpath) && !subpath.includes('*')) {
      resolved = targetResolve(ctx, map[subpath], null);
    } else {
      const key = bestPattern(map, subpath);
      if (key) {
        const star = subpath.slice(key.indexOf('*'), subpath.length - (key.length - key.indexOf('*') - 1));
        resolved = targetResolve(ctx, map[key], star);
      }
    }
  } catch (e) {
    if (e instanceof InvalidTarget) throw notFound(ctx, `${ctx.pjPath}: ${e.message}`);
    throw e;
  }
  // undefined: no condition matched; null: explicitly not exported. Node treats both as not exported.
  if (!resolved) throw notFound(ctx, `subpath '${subpath}' is not exported by ${ctx.pjPath}`);
  return resolved;
}

/** `exports` as a subpath map: a string, array or conditions object is sugar for `{ ".": exports }`. */
function exportsMap(ctx: ExportsCtx, exports: unknown): Record<string, unknown> {
  if (typeof exports !== 'object' || exports === null || Array.isArray(exports)) return { '.': exports };
  const keys = Object.keys(exports);
  const dotted = keys.filter((k) => k.startsWith('.')).length;
  if (dotted === 0) return { '.': exports };
  if (dotted !== keys.length) {
    throw invalidPackageConfig(ctx.pjPath, '"exports" cannot mix subpaths ("./...") and conditions');
  }
  return exports as Record<string, unknown>;
}

/** The most specific pattern key (one '*') matching `subpath`, by Node's PATTERN_KEY_COMPARE. */
function bestPattern(map: Record<string, unknown>, subpath: string): string | null {
  let best: string | null = null;
  for (const key of Object.keys(map)) {
    const star = key.indexOf('*');
    if (star === -1 || star !== key.lastIndexOf('*')) continue;
    const trailer = key.slice(star + 1);
    if (subpath.startsWith(key.slice(0, star)) && subpath.length >= key.length && subpath.endsWith(trailer)
      && (best === null || moreSpecific(key, best))) {
      best = key;
    }
  }
  return best;
}

/** Longer text before the '*' wins; then the longer key. */
function moreSpecific(a: string, b: string): boolean {
  const baseA = a.indexOf('*');
  const baseB = b.indexOf('*');
  return baseA !== baseB ? baseA > baseB : a.length > b.length;
}

/**
 * Node's PACKAGE_TARGET_RESOLVE. Returns the URL, `null` when the target
 * excludes the subpath, `undefined` when no condition matched.
 */
function targetResolve(ctx: ExportsCtx, target: unknown, star: string | null): URL | null | undefined {
  if (typeof target === 'string') return targetString(ctx, target, star);
  if (Array.isArray(target)) {
    // Fallbacks: the first that resolves; invalid targets are skipped, the last failure reported.
    let last: InvalidTarget | null | undefined;
    for (const item of target) {
      let r: URL | null | undefined;
      try {
        r = targetResolve(ctx, item, star);
      } catch (e) {
        if (!(e instanceof InvalidTarget)) throw e;
        last = e;
        continue;
      }
      if (r === undefined) continue;
      if (r === null) {
        last = null;
        continue;
      }
      return r;
    }
    if (last instanceof InvalidTarget) throw last;
    return target.length === 0 ? null : last;
  }
  if (typeof target === 'object' && target !== null) {
    // Conditions are tried in the order the package lists them, not in the order of our set.
    for (const [condition, value] of Object.entries(target)) {
      if (!IMPORT_CONDITIONS.has(condition)) continue;
      const r = targetResolve(ctx, value, star);
      if (r !== undefined) return r; // a null here ends the search: the package excluded it
    }
    return undefined;
  }
  if (target === null) return null;
  throw new InvalidTarget(`invalid "exports" target ${JSON.stringify(target)}`);
}

/** A string target: package-relative, staying inside the package, with '*' replaced by the matched part. */
function targetString(ctx: ExportsCtx, target: string, star: string | null): URL {
  if (!target.startsWith('./') || hasInvalidSegment(target.slice(2))) {
    throw new InvalidTarget(`invalid "exports" target ${JSON.stringify(target)}`);
  }
  const resolved = new URL(target, ctx.pkgUrl);
  if (!resolved.pathname.startsWith(ctx.pkgUrl.pathname)) {
    throw new InvalidTarget(`"exports" target ${JSON.stringify(target)} leaves the package`);
  }
  if (star === null) return resolved;
  // The part the specifier supplies must not climb out either (this is what keeps `pkg/*/../../x` in).
  if (hasInvalidSegment(star)) throw notFound(ctx, `'${star}' is not a valid subpath of the package`);
  return new URL(resolved.href.replaceAll('*', star));
}

/** Segments Node forbids in targets and pattern matches: '.', '..' and 'node_modules', also percent-encoded. */
function hasInvalidSegment(path: string): boolean {
  return path.split(/[\\/]/).some((segment) => {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      // a lone '%' is not an encoding of anything forbidden
    }
    decoded = decoded.toLowerCase();
    return decoded === '.' || decoded === '..' || decoded === 'node_modules';
  });
}

// ---------------------------------------------------------------- loading

/**
 * Reads a module source to send to a child. Only regular files with a module
 * source extension are served; TypeScript goes through `transpile`.
 */
export async function loadModule(url: string, transpile?: Transpile): Promise<LoadedModule> {
  if (!url.startsWith('file:')) throw new ModuleRefusedError(url, 'only file: URLs are served');
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (e) {
    throw new ModuleRefusedError(url, (e as Error).message);
  }
  // The extension is checked before touching the disk, so a refusal says nothing about what exists.
  const ext = extname(path);
  if (!SERVED.has(ext)) {
    throw new ModuleRefusedError(url, ext ? `${ext} files are not module sources` : 'it has no module source extension');
  }
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new ModuleNotFoundError(url, '', 'no such file');
  if (!st.isFile()) throw new ModuleRefusedError(url, 'it is not a regular file');
  // A symlink named x.js may point anywhere; the real file must be a module source too.
  const real = realpathSync(path);
  if (!SERVED.has(extname(real))) throw new ModuleRefusedError(url, `it is a link to ${real}`);
  const format = formatOf(url);
  if (!TYPESCRIPT.has(ext)) return { url, format, source: new Uint8Array(await readFile(path)) };
  if (!transpile) throw new Error(`Cannot serve ${url}: TypeScript sources need a transpiler`);
  const code = await transpile(await readFile(path, 'utf8'), url, format === 'module' ? 'module' : 'commonjs');
  return { url, format, source: new TextEncoder().encode(code) };
}

function displayPath(url: string): string {
  if (!url.startsWith('file:')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
