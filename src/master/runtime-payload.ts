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
import type { RuntimePayload } from '../threads/bootstrap-types.js';

export interface BuiltPayload {
  parsed: RuntimePayload;
  /** deflate(JSON(parsed)): what the first stage reads. */
  compressed: Uint8Array;
  /** The master's own broker (src/master/broker-worker.ts): the same BrokerCore, given the master's module source. Never sent. */
  masterBroker: string;
}

const here = import.meta.url;
const require = createRequire(here);
const fromSources = here.endsWith('.ts');
/** The package root: two up from src/master/ (sources), three from dist/src/master/. */
const packageRoot = fromSources ? new URL('../..', here) : new URL('../../..', here);
const prebuilt = new URL('../../runtime/payload.bin', here);
const prebuiltMasterBroker = new URL('../../runtime/master-broker.js', here);

let cached: BuiltPayload | undefined;

export function runtimePayload(): BuiltPayload {
  if (cached) return cached;
  if (!fromSources && existsSync(prebuilt) && existsSync(prebuiltMasterBroker)) {
    const compressed = new Uint8Array(readFileSync(prebuilt));
    const parsed = JSON.parse(require('node:zlib').inflateSync(compressed).toString()) as RuntimePayload;
    return (cached = { parsed, compressed, masterBroker: readFileSync(prebuiltMasterBroker, 'utf8') });
  }
  return (cached = buildRuntimePayload(packageRoot));
}

/** The bundles' entry points, relative to the package root. */
export const RUNTIME_ENTRIES = { main: 'src/runtime/child-main.ts', broker: 'actors/broker-worker.ts', hooks: 'src/modules/module-hooks.ts', masterBroker: 'src/master/broker-worker.ts' } as const;

function bundleOptions(root: URL): import('esbuild').BuildOptions {
  return {
    bundle: true, platform: 'node', target: 'node18', write: false, minify: true, keepNames: true,
    legalComments: 'eof', logLevel: 'error', absWorkingDir: fileURLToPath(root),
    // The child never bundles, transpiles or resolves for others: those stay in the master.
    external: ['esbuild'],
    // rxjs's "node" export is its CommonJS build, which cannot be tree-shaken: every
    // operator would ride along in both bundles. Its ES2015 build can.
    alias: { rxjs: join(dirname(require.resolve('rxjs/package.json')), 'dist/esm/index.js') },
  };
}

const formats = { main: 'iife', broker: 'iife', hooks: 'esm', masterBroker: 'iife' } as const;

function bundle(root: URL, which: keyof typeof RUNTIME_ENTRIES, metafile = false): import('esbuild').BuildResult {
  const esbuild = require('esbuild') as typeof import('esbuild');
  return esbuild.buildSync({ ...bundleOptions(root), metafile, entryPoints: [fileURLToPath(new URL(RUNTIME_ENTRIES[which], root))], format: formats[which] });
}

/** Bundles the runtime from the package's TypeScript sources under `root`. */
export function buildRuntimePayload(root: URL): BuiltPayload {
  const one = (which: keyof typeof RUNTIME_ENTRIES): string => bundle(root, which).outputFiles![0]!.text;
  const parsed: RuntimePayload = { v: 1, main: one('main'), broker: one('broker'), hooks: one('hooks') };
  return { parsed, compressed: deflateSync(JSON.stringify(parsed), { level: 9 }), masterBroker: one('masterBroker') };
}

/** The files each bundle is made of (esbuild's metafile), relative to the package root: what a child is sent, and the master's broker. */
export function bundleInputs(root: URL = packageRoot): Record<keyof typeof RUNTIME_ENTRIES, string[]> {
  const inputs = (which: keyof typeof RUNTIME_ENTRIES): string[] => Object.keys(bundle(root, which, true).metafile!.inputs);
  return { main: inputs('main'), broker: inputs('broker'), hooks: inputs('hooks'), masterBroker: inputs('masterBroker') };
}

/** Where the master's broker loads esbuild from, to transpile `.ts` modules it forwards. */
export function esbuildEntry(): string | undefined {
  try {
    return require.resolve('esbuild');
  } catch {
    return undefined;
  }
}
