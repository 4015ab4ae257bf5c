/**
 * What a broker's main thread may ask of it (BrokerApi), served through
 * comlink on the control port.
 */
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { encodeBody } from '../src/codec.js';
import type { BrokerApi, ConnectOutcome } from '../src/thread-protocol.js';
import type { BrokerParts } from './broker-parts.js';

function brokerApi(b: BrokerParts): BrokerApi {
  const modules = b.modules.actor;
  return {
    connect(spec) {
      return b.connect(spec).then(
        (result): ConnectOutcome => ({ ok: true, result }),
        (e: Error): ConnectOutcome => ({ ok: false, error: encodeBody(e) }),
      );
    },
    allocateId() { return b.ids.next(); },
    shutdown() { return b.shutdown('shutdown requested by the main thread'); },
    setDebug(on) { b.log.debug = on; },
    setModulePolicy(p) { b.modules.setPolicy(p); },
    setLimits(l) {
      if (l.preloadBytes !== undefined) modules.burstBytes = l.preloadBytes;
      if (l.maxMessageSize !== undefined) b.router.maxMessageSize = l.maxMessageSize;
      if (l.unidirectional !== undefined) b.router.unidirectional = l.unidirectional;
      if (l.warnBudget !== undefined) b.log.warnBudget = l.warnBudget;
      if (l.maxUnsentBytes !== undefined) b.streamLimits.maxUnsentBytes = l.maxUnsentBytes;
    },
    stats() {
      return { children: b.router.children.size, forkThreads: b.started.forkThreads, moduleHits: modules.hits, moduleMisses: modules.misses, moduleRequests: modules.requests, modulesPreloaded: modules.preloaded, moduleThreadRequests: modules.threadRequests, modulePrefetches: modules.prefetches, modulesPrefetched: modules.prefetched, modulePacks: modules.packs, ...b.router.sizes };
    },
    prefetch(call) {
      if (b.init.role === 'master') void modules.prefetch(call).catch(() => { /* the child's own request reports it */ });
    },
    prefetchesSettled() { return modules.prefetchesSettled(); },
    warmModule(req) {
      void modules.serve(req, { key: modules, remote: false }).catch(() => { /* the thread's own request reports it */ });
    },
    addModulePort(p) { b.modules.servePort(p, false); },
  };
}

export function exposeBrokerApi(b: BrokerParts, control: MessagePort): void {
  Comlink.expose(brokerApi(b), nodeEndpoint(control as unknown as Parameters<typeof nodeEndpoint>[0]));
}
