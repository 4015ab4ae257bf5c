/**
 * Starting a broker worker: kept apart from broker.ts, with nothing but
 * worker_threads behind it, so a child can start its worker before the rest
 * of its main bundle is evaluated (child-boot.ts).
 */
import { Worker } from 'node:worker_threads';
import type { BrokerParams, BrokerPorts } from '../threads/bootstrap-types.js';
import { BROKER_WRAPPER } from '../threads/bootstrap-types.js';
import { brokerChannels } from '../threads/broker-channels.js';

export interface StartedBroker {
  worker: Worker;
  ports: Omit<BrokerPorts, 'main'>;
}

/**
 * The worker's script when its bundle is compiled with a code cache: the
 * bundle and its cache come in workerData, and the bundle is given its own
 * Script (to make a cache from once it has run). V8 rejects a cache that does
 * not fit and compiles as usual.
 */
const LOADER = "const{workerData:d}=require('node:worker_threads'),b=d.bundle;delete d.bundle;"
  + `const S=new(require('node:vm').Script)(${JSON.stringify(BROKER_WRAPPER[0])}+b.src+${JSON.stringify(BROKER_WRAPPER[1])},`
  + "{filename:'mitogen:broker',cachedData:b.cache&&b.cache.length?b.cache:void 0});S.runInThisContext()(S)";

/**
 * Starts a broker worker and the ports its main thread needs. `cache`: compile
 * the bundle with vm.Script and this cache (an empty one: none), as a child
 * does; its worker's stdout and stderr are then left for the caller to pipe
 * (a child starts it before its output is captured, and Node would otherwise
 * open fd 1, the protocol's, as process.stdout there and then).
 */
export function startBrokerWorker(source: string, init: BrokerParams, cache?: Uint8Array): StartedBroker {
  const { workerData, ports } = brokerChannels(init);
  const data = cache ? { ...workerData, bundle: { src: source, cache } } : workerData;
  const worker = new Worker(cache ? LOADER : source, {
    eval: true,
    workerData: data,
    transferList: [workerData.control, workerData.modules],
    name: `mitogen broker ${init.name}`,
    // The broker is our own bundled script: the master's --import/--loader/--input-type
    // flags (tsx, ESM -e) would change how it is evaluated and slow its start.
    execArgv: [],
    ...(cache ? { stdout: true, stderr: true } : {}),
  });
  return { worker, ports };
}
