/**
 * An ES module required from CommonJS. Node 20 cannot require() an ES module
 * (Node 22 can), yet TypeScript written with `import` in a package that is
 * not `"type": "module"` is CommonJS once transpiled, and its imports become
 * require() calls: `import chalk from 'chalk'` would fail in the child while
 * the same file runs in a master under tsx. As tsx does, the master then
 * serves that module converted to CommonJS by esbuild, under its own URL
 * (the file's URL with a marker query), so it is a module of its own beside
 * the ES one (Node's dual-package caveat applies). A module with top-level
 * await cannot be converted: requiring it fails, naming why.
 */
const MARK = '?mitogen-ts=cjs';

/** The URL under which `url` (an ES module) is served as CommonJS. */
export function cjsRenditionOf(url: string): string {
  return url.endsWith(MARK) ? url : url + MARK;
}

export function isCjsRendition(url: string): boolean {
  return url.endsWith(MARK);
}

/** The file a URL names, without the marker. */
export function fileUrlOf(url: string): string {
  return url.endsWith(MARK) ? url.slice(0, -MARK.length) : url;
}
