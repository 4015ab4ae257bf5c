/**
 * The contract between a context's main thread and its broker thread, types
 * only: what the main thread may ask (BrokerApi, through comlink on the
 * control port, each answer an Outcome: BrokerControl) and what the broker
 * tells it (BrokerEvent, on the worker's own port beside the frames).
 * src/runtime/broker.ts is the main thread's side, actors/broker-api.ts the broker's
 * (a BrokerCore, actors/broker-core.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import type { CallToCome } from '../modules/module-wire.js';
import type { ModuleRequest } from '../modules/module-wire.js';
import type { ConnectResult, ConnectSpec } from './bootstrap-types.js';
import type { LogLevel } from './log-level.js';
import type { ModulePolicy } from '../modules/module-policy.js';
import type { Outcome } from '../wire/outcome.js';

export type BrokerEvent =
  | { t: 'route-add'; id: number; name: string }
  | { t: 'route-del'; ids: number[]; why?: string }
  /** A child whose connect resolved while it was still starting (ConnectResult.booting) has started. */
  | { t: 'booted'; id: number }
  | { t: 'log'; level: LogLevel; name: string; text: string }
  | { t: 'exit'; reason: string }
  /** Large frames the main thread sent, written: their buffers come back for its next ones (src/wire/frame-pool.ts). */
  | { t: 'written'; buffers: ArrayBuffer[] };

/** What the main thread may ask of its broker (through comlink). */
export interface BrokerApi {
  connect(spec: ConnectSpec): Promise<ConnectResult>;
  allocateId(): Promise<number>;
  shutdown(): Promise<void>;
  setDebug(on: boolean): void;
  setLimits(limits: { maxMessageSize?: number; unidirectional?: boolean; warnBudget?: number; maxUnsentBytes?: number; preloadBytes?: number; shareCodeCache?: boolean }): void;
  /** Master only: what the module responder may serve. */
  setModulePolicy(policy: ModulePolicy): void;
  stats(): { children: number; forkThreads: number; moduleHits: number; moduleMisses: number; moduleRequests: number; modulesPreloaded: number; moduleThreadRequests: number; modulePrefetches: number; modulesPrefetched: number; modulePacks: number; routes: number; talkedTo: number; routesTraced: boolean; codeCacheHits: number; codeCacheRejects: number; codeCacheSent: number; codeCacheEntries: number; codeCacheReports: number };
  /** Master only: a call is on its way (a function's source and its caller, or a module's export): gather its imports. */
  prefetch(call: CallToCome): void;
  /** A thread of this context is about to ask for `req` (its hooks thread is starting): ask now, keep the answer. */
  warmModule(req: ModuleRequest): void;
  /** Resolves once every prefetch begun so far has ended (for tests and the bench). */
  prefetchesSettled(): Promise<void>;
  /** A port the ESM loader hooks use for module requests. */
  addModulePort(port: MessagePort): void;
  /** Posts a TraceRecord on `port` for each frame this broker routes, until either side closes it. */
  traceRoutes(port: MessagePort): void;
}

/** One message as a trace reports it: router.trace$ (delivered on a thread's handle table), router.routed$ (routed by its broker). */
export interface TraceRecord {
  readonly handle: number;
  readonly srcId: number;
  readonly dstId: number;
  /** Bytes of its body. */
  readonly size: number;
  readonly isDead: boolean;
}

/**
 * BrokerApi as it crosses the control port: every method answers an Outcome,
 * a failure as the error encoded by our codec (encodeBody), so the main
 * thread rethrows it with its class and fields — comlink would keep only an
 * error's name and message.
 */
export type BrokerControl = {
  [K in keyof BrokerApi]: (...args: Parameters<BrokerApi[K]>) => Promise<Outcome<Awaited<ReturnType<BrokerApi[K]>>, Uint8Array>>;
};
