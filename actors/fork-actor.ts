/**
 * ForkActor: starts a fork — an isolated context in a new worker thread of
 * this context (Node cannot fork(2) a running process). The worker runs the
 * same child runtime every context runs; `resourceLimits` bound its heap, so
 * a blow-up ends only the fork. It lives in the broker thread, which owns
 * every stream of this context.
 *
 * A fork has a broker worker of its own, like any context, but its host
 * starts it here, beside the fork's main thread, rather than the fork
 * starting it from inside: the two threads boot at the same time instead of
 * one after the other. They meet on ports made here; the fork's broker talks
 * to this context on a port as a child does on its pipes.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { startBrokerWorker } from '../src/broker.js';
import { StreamError } from '../src/errors.js';
import type { ConnectResult, ConnectSpec, RuntimePayload } from '../src/bootstrap-types.js';
import { childConfig } from './child-config.js';
import { portStreams } from './port-stream.js';
import { StreamActor } from './stream-actor.js';
import type { StreamEvents } from './stream-actor.js';

/** What the fork's thread runs: the child runtime, fed from workerData instead of stdin. */
const FORK_BOOT = "const{workerData:W}=require('node:worker_threads');"
  + "new Function('require','J','P','C','I',W.J.main)(require,W.J,W.P,W.C,s=>import(s))";

let parsed: RuntimePayload | undefined;

export interface Forked { stream: StreamActor; worker: Worker; result: ConnectResult }

export function startFork(spec: ConnectSpec, deps: { payload: Uint8Array; myId: number; parentIds: number[]; streamEvents: StreamEvents }): Promise<Forked> {
  parsed ??= JSON.parse(inflateSync(deps.payload).toString('utf8')) as RuntimePayload;
  const name = spec.name ?? `fork.${spec.contextId}`;
  const toHost = new MessageChannel();
  const toMain = new MessageChannel();
  return new Promise<Forked>((resolve, reject) => {
    let broker: Worker;
    let worker: Worker;
    try {
      const started = startBrokerWorker(parsed!.broker, {
        contextId: spec.contextId,
        parentIds: [deps.myId, ...deps.parentIds],
        name,
        maxMessageSize: spec.maxMessageSize,
        unidirectional: spec.unidirectional,
        debug: spec.debug,
        isMaster: false,
        payload: deps.payload,
        parentPort: toHost.port2,
      }, { mainPort: toMain.port2 });
      broker = started.worker;
      const adopt = { main: toMain.port1, ...started.ports };
      const config = childConfig(spec, name, deps, { profiling: false, fork: { onStart: spec.fork?.onStart, broker: adopt } });
      worker = new Worker(FORK_BOOT, {
        eval: true,
        workerData: { J: parsed, P: deps.payload, C: config },
        transferList: [adopt.main, adopt.control, adopt.modules],
        resourceLimits: spec.fork?.resourceLimits,
        execArgv: [],
        name: `mitogen ${name}`,
        stdout: false,
        stderr: false,
      });
    } catch (e) {
      reject(new StreamError(`${name}: could not start the fork's thread: ${(e as Error).message}`));
      return;
    }
    // The two threads live and die together: whichever ends first ends the other.
    worker.once('exit', () => { void broker.terminate(); });
    broker.once('exit', () => { void worker.terminate(); });
    broker.on('error', (e) => worker.emit('error', e));
    let settled = false;
    const timer = setTimeout(() => fail(new StreamError(`Failed to setup connection after ${spec.connectTimeout} seconds: ${name}`)), spec.connectTimeout * 1000);
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      reject(e);
    };
    worker.once('error', (e) => fail(new StreamError(`${name}: the fork's thread failed while starting: ${e.message}`)));
    worker.once('exit', (code) => fail(new StreamError(`${name}: the fork's thread exited (${code}) while starting`)));
    // The fork's broker announces itself with MITO002 on the port, as a child does on stdout.
    const port1 = toHost.port1;
    port1.once('message', (first: Uint8Array) => {
      if (Buffer.from(first.buffer, first.byteOffset, first.byteLength).toString() !== 'MITO002\n') {
        fail(new StreamError(`${name}: unexpected first message from the fork`));
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const { input, output } = portStreams(port1);
      const stream = new StreamActor(input, output, { remoteId: spec.contextId, name, maxMessageSize: spec.maxMessageSize }, deps.streamEvents);
      // A fork that dies (a heap limit, process.exit in it) closes its port; make sure of it.
      worker.on('exit', () => stream.close('the fork\'s thread exited'));
      worker.on('error', () => { /* reported through the stream closing */ });
      // The fork closes its end when asked to shut down while its main thread is
      // stuck in user code (a pool call being cancelled, say): end the thread.
      port1.once('close', () => { void worker.terminate(); });
      resolve({ stream, worker, result: { contextId: spec.contextId, name, pid: process.pid } });
    });
  });
}
