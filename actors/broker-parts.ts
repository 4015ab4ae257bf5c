/**
 * What a broker is made of, as its control handles and its API see it
 * (actors/broker-core.ts puts it together; they take this, not the class, so
 * neither imports the file that imports them).
 */
import type { BrokerInit, ConnectResult, ConnectSpec } from '../src/threads/bootstrap-types.js';
import type { BrokerLog } from './broker-log.js';
import type { CodeCaches } from './code-cache.js';
import type { ContextIds } from './context-ids.js';
import type { ModuleServing } from './module-serving.js';
import type { PendingRequests } from './pending-requests.js';
import type { RouterActor } from './router-actor.js';
import type { StartedContexts } from './started-contexts.js';
import type { StreamActor, StreamShared } from './stream-actor.js';

export interface BrokerParts {
  readonly init: BrokerInit;
  readonly router: RouterActor;
  readonly log: BrokerLog;
  readonly requests: PendingRequests;
  readonly modules: ModuleServing;
  readonly ids: ContextIds;
  readonly started: StartedContexts;
  /** The V8 code caches kept for the children this broker starts. */
  readonly codeCaches: CodeCaches;
  /** Changed in place by setLimits: every stream of this broker reads it. */
  readonly streamShared: StreamShared;
  /**
   * The module each child stream was last sent and has said nothing since: if
   * it disconnects now, the import of that module is what broke, and the
   * callers' errors say so (a cut mid-burst otherwise reads as a bare disconnect).
   */
  readonly importing: Map<StreamActor, string>;
  /** `untilBooted`: resolve once the child has started, not when it has read its runtime. */
  connect(spec: ConnectSpec, untilBooted?: boolean): Promise<ConnectResult>;
  shutdown(reason: string): Promise<void>;
}
