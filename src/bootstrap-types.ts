/** Shapes shared by the master, the broker workers and the child runtime. */
import type { MessagePort } from 'node:worker_threads';

/** How to start one child context: built by a transport, run by a broker. */
export interface ConnectSpec {
  contextId: number;
  /** The connection method, e.g. 'local'; the default name is `${method}.${pid}`. */
  method: string;
  name?: string;
  /** The whole command, first stage included. */
  argv: string[];
  env?: Record<string, string>;
  connectTimeout: number;
  maxMessageSize: number;
  debug: boolean;
  profiling: boolean;
  unidirectional: boolean;
}

export interface ConnectResult {
  contextId: number;
  name: string;
  pid: number;
}

/** What a child learns about itself, sent after the runtime payload. */
export interface ChildConfig {
  contextId: number;
  /** Parent first, then its parent, up to the master (0). */
  parentIds: number[];
  name: string;
  maxMessageSize: number;
  debug: boolean;
  profiling: boolean;
  unidirectional: boolean;
}

/** The runtime shipped to children: bundled sources, as JSON, then deflated. */
export interface RuntimePayload {
  v: 1;
  /** The child's main-thread runtime (a function body taking require, J, P, C, I). */
  main: string;
  /** The broker worker (an eval'd CommonJS script). */
  broker: string;
  /** ESM loader hooks for module forwarding. */
  hooks: string;
}

/** workerData of a broker worker. */
export interface BrokerInit {
  role: 'broker';
  contextId: number;
  parentIds: number[];
  name: string;
  maxMessageSize: number;
  unidirectional: boolean;
  debug: boolean;
  isMaster: boolean;
  payload: Uint8Array;
  /** The child's fds to its parent; absent in the master. */
  parentFds?: { in: number; out: number };
  /** Master only: absolute path of esbuild's entry, for transpiling .ts on the way. */
  esbuildPath?: string;
  control: MessagePort;
  modules: MessagePort;
  /** Int32 flag the main thread waits on for synchronous module fetches. */
  syncFlag: SharedArrayBuffer;
}
