// TEMPORARY stand-in until the full resolver lands (same interface).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ModuleFormat = 'module' | 'commonjs' | 'json' | 'builtin';
export interface ResolvedModule { url: string; format: ModuleFormat }
export interface LoadedModule extends ResolvedModule { source: Uint8Array }
export type Transpile = (source: string, url: string, format: 'module' | 'commonjs') => Promise<string>;
export class ModuleNotFoundError extends Error {
  code = 'ERR_MODULE_NOT_FOUND' as const;
  constructor(public specifier: string, public parentUrl: string) { super(`Cannot find module '${specifier}' imported from ${parentUrl}`); }
}
export class ModuleRefusedError extends Error { code = 'ERR_MODULE_REFUSED' as const; constructor(public url: string, why: string) { super(`refusing to serve ${url}: ${why}`); } }

export function formatOf(url: string): ModuleFormat {
  if (url.startsWith('node:')) return 'builtin';
  if (/\.m[jt]s$/.test(url)) return 'module';
  if (/\.c[jt]s$/.test(url)) return 'commonjs';
  if (url.endsWith('.json')) return 'json';
  let dir = dirname(fileURLToPath(url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) return JSON.parse(readFileSync(pj, 'utf8')).type === 'module' ? 'module' : 'commonjs';
    const up = dirname(dir); if (up === dir) return 'commonjs'; dir = up;
  }
}

export function resolveModule(specifier: string, parentUrl: string, kind: 'import' | 'require'): ResolvedModule {
  const bare = specifier.replace(/^node:/, '');
  if (builtinModules.includes(bare)) return { url: `node:${bare}`, format: 'builtin' };
  const parentPath = parentUrl.startsWith('file:') ? fileURLToPath(parentUrl) : parentUrl;
  if (/^(\.{1,2}\/|\/|file:)/.test(specifier) && kind === 'import') {
    const u = new URL(specifier, pathToFileURL(parentPath));
    let p = fileURLToPath(u);
    if (!existsSync(p) && /\.[cm]?js$/.test(p) && existsSync(p.replace(/js$/, 'ts'))) p = p.replace(/js$/, 'ts');
    if (!existsSync(p) || !statSync(p).isFile()) throw new ModuleNotFoundError(specifier, parentUrl);
    const url = pathToFileURL(p).href; return { url, format: formatOf(url) };
  }
  try {
    const p = createRequire(parentPath).resolve(specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier);
    const url = pathToFileURL(p).href; return { url, format: formatOf(url) };
  } catch { throw new ModuleNotFoundError(specifier, parentUrl); }
}

export async function loadModule(url: string, transpile?: Transpile): Promise<LoadedModule> {
  const p = fileURLToPath(url);
  if (!existsSync(p)) throw new ModuleNotFoundError(url, url);
  const format = formatOf(url);
  let text = readFileSync(p, 'utf8');
  if (/\.[cm]?ts$/.test(p)) {
    if (!transpile) throw new Error('TypeScript sources need a transpiler');
    text = await transpile(text, url, format === 'commonjs' ? 'commonjs' : 'module');
  }
  return { url, format, source: new TextEncoder().encode(text) };
}
