/**
 * What a broker's main thread may ask of it (BrokerApi), served through
 * comlink on the control port, each answer an Outcome (BrokerControl).
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { encodeBody } from '../src/wire/codec.js';
import { MitogenError } from '../src/wire/errors.js';
import { settle } from '../src/wire/outcome.js';
import type { Outcome } from '../src/wire/outcome.js';
import { IS_DEAD } from '../src/wire/handles.js';
import type { BrokerApi, BrokerControl, TraceRecord } from '../src/threads/thread-protocol.js';
import type { BrokerParts } from './broker-parts.js';

function brokerApi(b: BrokerParts): BrokerApi {
  const modules = b.modules.actor;
  return {
    connect(spec) { return b.connect(spec); },
    allocateId() { return b.ids.next(); },
    shutdown() { return b.shutdown('shutdown requested by the main thread'); },
    setDebug(on) { b.log.debug = on; },
    setModulePolicy(p) { b.modules.setPolicy(p); },
    setLimits(l) {
      if (l.preloadBytes !== undefined) modules.burstBytes = l.preloadBytes;
      if (l.maxMessageSize !== undefined) b.router.maxMessageSize = l.maxMessageSize;
      if (l.unidirectional !== undefined) b.router.unidirectional = l.unidirectional;
      if (l.warnBudget !== undefined) b.log.warnBudget = l.warnBudget;
      if (l.maxUnsentBytes !== undefined) b.streamShared.maxUnsentBytes = l.maxUnsentBytes;
      if (l.shareCodeCache !== undefined) b.codeCaches.share = l.shareCodeCache;
    },
    stats() {
      return { children: b.router.children.size, forkThreads: b.started.forkThreads, moduleHits: modules.hits, moduleMisses: modules.misses, moduleRequests: modules.requests, modulesPreloaded: modules.preloaded, moduleThreadRequests: modules.threadRequests, modulePrefetches: modules.prefetches, modulesPrefetched: modules.prefetched, modulePacks: modules.packs, ...b.router.sizes, routesTraced: b.router.inbox.observed, codeCacheHits: b.codeCaches.hits, codeCacheRejects: b.codeCaches.rejects, codeCacheSent: b.codeCaches.sent, codeCacheEntries: b.codeCaches.entries, codeCacheReports: b.codeCaches.reports };
    },
    prefetch(call) {
      if (b.init.role === 'master') void modules.prefetch(call).catch(() => { /* the child's own request reports it */ });
    },
    prefetchesSettled() { return modules.prefetchesSettled(); },
    warmModule(req) {
      void modules.serve(req, { key: modules, remote: false }).catch(() => { /* the thread's own request reports it */ });
    },
    addModulePort(p) { b.modules.servePort(p, false); },
    traceRoutes(port) {
      // The forwarder's mailbox makes its Subject only now, and drops it when the port closes.
      const sub = b.router.inbox.messages$.subscribe({
        next: (h) => port.postMessage({ handle: h.handle, srcId: h.srcId, dstId: h.dstId, size: h.length, isDead: h.replyTo === IS_DEAD } satisfies TraceRecord),
        complete: () => port.close(),
      });
      port.on('close', () => sub.unsubscribe());
    },
  };
}

/** A thrown value as codec bytes (anything not an Error becomes a MitogenError naming it). */
function encodedError(thrown: unknown): Uint8Array {
  return encodeBody(thrown instanceof Error ? thrown : new MitogenError(String(thrown)));
}

/** Every method of `api`, answering an Outcome instead of throwing. */
function outcomes(api: BrokerApi): BrokerControl {
  const wrapped: Record<string, (...args: unknown[]) => Promise<Outcome<unknown, Uint8Array>>> = {};
  for (const [name, fn] of Object.entries(api) as [string, (...args: unknown[]) => unknown][]) {
    wrapped[name] = (...args) => settle(() => fn(...args), encodedError);
  }
  return wrapped as unknown as BrokerControl;
}

export function exposeBrokerApi(b: BrokerParts, control: MessagePort): void {
  Comlink.expose(outcomes(brokerApi(b)), nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
}
