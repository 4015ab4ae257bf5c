/**
 * Starting a broker worker: kept apart from broker.ts, with nothing but
 * worker_threads behind it, so a child can hand its worker its bundle before
 * the rest of its main bundle is evaluated (child-boot.ts).
 */
import { Worker } from 'node:worker_threads';
import type { BrokerParams, BrokerPorts, ChildBrokerParams } from '../threads/bootstrap-types.js';
import { BROKER_WRAPPER } from '../wire/bundle-wrappers.js';
import { brokerChannels } from '../threads/broker-channels.js';

export interface StartedBroker {
  worker: Worker;
  ports: Omit<BrokerPorts, 'main'>;
}

/** Starts a broker worker (the master's) and the ports its main thread needs. */
export function startBrokerWorker(source: string, init: BrokerParams): StartedBroker {
  const { workerData, ports } = brokerChannels(init);
  const worker = new Worker(source, {
    eval: true,
    workerData,
    transferList: [workerData.control, workerData.modules],
    name: `mitogen broker ${init.name}`,
    // The broker is our own bundled script: the master's --import/--loader/--input-type
    // flags (tsx, ESM -e) would change how it is evaluated and slow its start.
    execArgv: [],
  });
  return { worker, ports };
}

/**
 * What a child's waiting worker evaluates (the first stage started it, with
 * `m=>eval(m.l)` for its only message; `m` is that message): the broker
 * bundle compiled with vm.Script and its code cache (V8 rejects one that does
 * not fit and compiles as usual), run with its own Script (to make a cache
 * from once it has run) and its init. The source and the cache are let go once
 * compiled: the Script keeps what it needs (111 KiB of source held twice otherwise).
 * Sent, not in argv: it can change with the runtime.
 */
const LOADER = `const S=new(require('node:vm').Script)(${JSON.stringify(BROKER_WRAPPER[0])}+m.src+${JSON.stringify(BROKER_WRAPPER[1])},`
  + "{filename:'mitogen:broker',cachedData:m.cache.length?m.cache:void 0});m.src=m.cache=void 0;S.runInThisContext()(S,m.init)";

/**
 * Gives a child's broker worker, started by the first stage and waiting, its
 * bundle, its code cache (empty: none) and its init with the ports its main
 * thread's ends are returned of. Its stdout and stderr are the caller's to
 * pipe (the first stage starts it before output is captured, and Node would
 * otherwise open fd 1, the protocol's, as process.stdout there and then).
 */
export function runBrokerIn(worker: Worker, source: string, init: ChildBrokerParams, cache: Uint8Array): StartedBroker {
  const { workerData, ports } = brokerChannels(init);
  worker.postMessage({ l: LOADER, src: source, cache, init: workerData }, [workerData.control, workerData.modules]);
  return { worker, ports };
}
