/**
 * Makes `new Broker()` work in a master: the broker worker runs the broker
 * every child receives given the master's module source (src/master/broker-worker.ts),
 * which reads the master's files for module forwarding (transpiling
 * TypeScript with esbuild).
 */
import os from 'node:os';
import { setMasterBrokerSetup } from '../runtime/broker.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../runtime/router.js';
import { esbuildEntry, runtimePayload } from './runtime-payload.js';

setMasterBrokerSetup(() => {
  const payload = runtimePayload();
  return {
    source: payload.masterBroker,
    init: {
      contextId: 0,
      parentIds: [],
      name: `master:${os.hostname()}:${process.pid}`,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
      unidirectional: false,
      debug: false,
      role: 'master',
      payload: payload.compressed,
      esbuildPath: esbuildEntry(),
      moduleBase: import.meta.url,
    },
  };
});
