/**
 * The first module of the child's main bundle to run (child-main.ts imports
 * it first, and a bundle evaluates its modules in import order): it starts
 * the broker worker at once, so the worker's isolate boots on another core
 * while this thread evaluates the rest of the runtime. Nothing heavy may be
 * imported here: whatever it imports is evaluated before the worker starts.
 */
import type { ChildConfig, RuntimePayload } from '../threads/bootstrap-types.js';
import { codeEnv } from '../threads/bootstrap-types.js';
import { startBrokerWorker } from './broker-start.js';
import type { StartedBroker } from './broker-start.js';

declare const J: RuntimePayload;
declare const P: Uint8Array;
declare const C: ChildConfig;
/** The code caches that came with the config, when made for this Node (else null). */
declare const K: Uint8Array[] | null;

/** The child's broker worker, already starting; a fork has none (its host runs its broker). */
export const startedBroker: StartedBroker | undefined = C.fork ? undefined : startBrokerWorker(J.broker, {
  contextId: C.contextId,
  parentIds: C.parentIds,
  name: C.name,
  maxMessageSize: C.maxMessageSize,
  unidirectional: C.unidirectional,
  debug: C.debug,
  role: 'child',
  payload: P,
  parentFds: { in: 0, out: 1 },
  codeCache: { env: codeEnv(), want: C.cw === true },
}, K?.[1] ?? new Uint8Array(0));
