/**
 * Where the master's module source plugs into the broker. The broker bundle
 * every child receives has no resolver, no transpiler and no module policy:
 * those are the master's alone, and only the master's broker entry
 * (src/master/broker-worker.ts) puts them here before the broker starts.
 */
import type { ModulePolicy } from '../src/module-policy.js';
import type { ModuleSource } from './module-actor.js';

export interface MasterSourceOptions {
  esbuildPath?: string;
  /** Where mitogen-ts is installed: the parent of the runtime's own packages, and of cjs-module-lexer. */
  moduleBase?: string;
  policy(): ModulePolicy;
}

export type MasterSourceFactory = (o: MasterSourceOptions) => ModuleSource;

let factory: MasterSourceFactory | undefined;

export function provideMasterSource(f: MasterSourceFactory): void {
  factory = f;
}

/** The master's module source; a master broker started from the child's bundle has none, and says so. */
export function masterSource(o: MasterSourceOptions): ModuleSource {
  if (!factory) throw new Error('this broker bundle has no module source of the master\'s (start the master\'s broker from src/master/broker-worker.ts)');
  return factory(o);
}
