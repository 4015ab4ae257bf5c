/**
 * The first module of the child's main bundle to run (child-main.ts imports
 * it first, and a bundle evaluates its modules in import order): the broker
 * worker the first stage started (its isolate booting meanwhile) is sent its
 * bundle and init at once, so it compiles and starts the broker on another
 * core while this thread evaluates the rest of the runtime. Nothing heavy
 * may be imported here: whatever it imports is evaluated before that.
 */
import type { ChildConfig, RuntimePayload } from '../threads/bootstrap-types.js';
import { codeEnv } from '../threads/bootstrap-types.js';
import type { Worker } from 'node:worker_threads';
import { runBrokerIn } from './broker-start.js';
import type { StartedBroker } from './broker-start.js';

declare const J: RuntimePayload;
declare const P: Uint8Array;
declare const C: ChildConfig;
/** The code caches that came with the config, when made for this Node (else null). */
declare const K: Uint8Array[] | null;
/** The broker worker the first stage started, waiting for its bundle (a fork has none). */
declare const B: Worker | undefined;

/** The child's broker worker, starting its broker; a fork has none (its host runs its broker). */
export const startedBroker: StartedBroker | undefined = C.fork ? undefined : runBrokerIn(B!, J.broker, {
  contextId: C.contextId,
  parentIds: C.parentIds,
  name: C.name,
  maxMessageSize: C.maxMessageSize,
  unidirectional: C.unidirectional,
  debug: C.debug,
  role: 'child',
  payload: P,
  parentFds: { in: 0, out: 1 },
  codeCache: { env: codeEnv(), want: C.cw === true, offered: C.cc !== undefined },
}, K?.[1] ?? new Uint8Array(0));

// The compiled Script holds the main bundle's source and the worker has the broker's: the parsed
// copies would stay in this heap for the child's life (~250 KiB). Forks start from their broker's payload.
J.main = '';
J.broker = '';
// The code caches too: the main bundle's was consumed when it was compiled, the broker's was copied
// to its worker just now (~100-300 KiB each, inflated), and nothing reads them again.
// (A fork's runtime has no K: its wrapper does not pass one, hence the startedBroker test first.)
if (startedBroker && K) K.length = 0;
