/**
 * The runtime every child receives over its pipe: three bundles built from
 * this package's own sources with esbuild — the child's main thread, the
 * broker worker, the loader hooks — as JSON, deflated once per master.
 * Running from `dist/`, the prebuilt payload is read; running from the
 * TypeScript sources (tests, tsx), it is bundled in memory on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import type { RuntimePayload } from './bootstrap-types.js';

export interface BuiltPayload {
  parsed: RuntimePayload;
  /** deflate(JSON(parsed)): what the first stage reads. */
  compressed: Uint8Array;
}

const here = import.meta.url;
const require = createRequire(here);
const fromSources = here.endsWith('.ts');
const prebuilt = new URL('../runtime/payload.bin', here);

let cached: BuiltPayload | undefined;

export function runtimePayload(): BuiltPayload {
  if (cached) return cached;
  if (!fromSources && existsSync(prebuilt)) {
    const compressed = new Uint8Array(readFileSync(prebuilt));
    const parsed = JSON.parse(require('node:zlib').inflateSync(compressed).toString()) as RuntimePayload;
    return (cached = { parsed, compressed });
  }
  return (cached = buildRuntimePayload(fromSources ? new URL('..', here) : new URL('../..', here)));
}

/** Bundles the runtime from the package's TypeScript sources under `root`. */
export function buildRuntimePayload(root: URL): BuiltPayload {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const common: import('esbuild').BuildOptions = {
    bundle: true, platform: 'node', target: 'node18', write: false, minify: true, keepNames: true,
    legalComments: 'eof', logLevel: 'error', absWorkingDir: fileURLToPath(root),
    // The child never bundles, transpiles or resolves for others: those stay in the master.
    external: ['esbuild'],
    // rxjs's "node" export is its CommonJS build, which cannot be tree-shaken: every
    // operator would ride along in both bundles. Its ES2015 build can.
    alias: { rxjs: join(dirname(require.resolve('rxjs/package.json')), 'dist/esm/index.js') },
  };
  const one = (entry: string, format: 'iife' | 'esm'): string => {
    const out = esbuild.buildSync({ ...common, entryPoints: [fileURLToPath(new URL(entry, root))], format });
    return out.outputFiles![0]!.text;
  };
  const parsed: RuntimePayload = {
    v: 1,
    main: one('src/child-main.ts', 'iife'),
    broker: one('actors/broker-worker.ts', 'iife'),
    hooks: one('src/module-hooks.ts', 'esm'),
  };
  return { parsed, compressed: deflateSync(JSON.stringify(parsed), { level: 9 }) };
}

/** Where the master's broker loads esbuild from, to transpile `.ts` modules it forwards. */
export function esbuildEntry(): string | undefined {
  try {
    return require.resolve('esbuild');
  } catch {
    return undefined;
  }
}
