/**
 * The import graph of the package's own code (src/, actors/, transports/)
 * read from the sources, type-only imports included (as a reader follows
 * them): what the structure tests check.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';

export const ROOTS = ['src', 'actors', 'transports'];

export function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const r of ROOTS) walk(r);
  return out.sort();
}

/** The package files `file` imports (relative imports that resolve to a source file). */
export function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = normalize(join(dirname(file), fileName.replace(/\.js$/, '.ts')));
    if (existsSync(target)) out.push(target);
  }
  return out;
}

/** Every source file and what it imports. */
export const importGraph = (): Map<string, string[]> => new Map(sources().map((f) => [f, importsOf(f)]));
