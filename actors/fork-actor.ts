/**
 * ForkActor: starts a fork — an isolated context in a new worker thread of
 * this context (Node cannot fork(2) a running process). The worker runs the
 * same child runtime every context runs; `resourceLimits` bound its heap, so
 * a blow-up ends only the fork. It lives in the broker thread, which owns
 * every stream of this context.
 *
 * A fork has a broker of its own, like any context — but not a thread of
 * its own for it: the fork's broker runs here, in this (its host's) broker
 * thread, a BrokerCore of its own beside the host's. A worker thread costs
 * tens of milliseconds to start; a BrokerCore costs a constructor call. The fork's main thread adopts that broker through ports
 * made here, and the fork's broker talks to this context on a port as a
 * child does on its pipes.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import vm from 'node:vm';
import { inflateSync } from 'node:zlib';
import { brokerChannels } from '../src/threads/broker-channels.js';
import { StreamError } from '../src/wire/errors.js';
import type { ConnectResult, ForkBrokerInit, ForkSpec, RuntimePayload } from '../src/threads/bootstrap-types.js';
import { MITO002 } from '../src/wire/bootstrap-markers.js';
import { childConfig } from './bootstrap/child-config.js';
import { portStreams } from './port-stream.js';
import { StreamActor } from './stream-actor.js';
import type { StreamEvents, StreamShared } from './stream-actor.js';

/**
 * What the fork's thread runs: the child runtime, fed from workerData instead
 * of stdin, compiled with a V8 code cache made once in this thread (the
 * compile then costs ~1 ms instead of ~6; a cache V8 refuses is only slower).
 */
const FORK_BOOT = "const{workerData:W}=require('node:worker_threads');"
  + "new(require('node:vm').Script)(W.S,{filename:'mitogen-runtime.js',cachedData:W.K}).runInThisContext()(require,W.J,W.P,W.C,s=>import(s))";

/*
 * Caches, not state: every broker of a process holds the same payload (a
 * fork's broker is given its host's), so what it yields is made once.
 */
let compiled: { S: string; K: Buffer } | undefined;
function runtimeWithCache(main: string): { S: string; K: Buffer } {
  if (!compiled) {
    const S = `(function(require,J,P,C,I){${main}\n})`;
    compiled = { S, K: new vm.Script(S, { filename: 'mitogen-runtime.js' }).createCachedData() };
  }
  return compiled;
}

let parsed: RuntimePayload | undefined;

export interface ForkDeps {
  payload: Uint8Array;
  myId: number;
  parentIds: number[];
  streamEvents: StreamEvents;
  streamShared: StreamShared;
  /** Starts the fork's broker in this thread: `init.mainPort` reaches the fork's main thread. */
  startBroker(init: ForkBrokerInit): void;
  /** Told when the fork's thread has started (it counts from then until its Worker's 'exit'). */
  threads: { forkThreadStarted(worker: Worker): void };
}

export interface Forked { stream: StreamActor; worker: Worker; result: ConnectResult }

export function startFork(spec: ForkSpec, deps: ForkDeps): Promise<Forked> {
  const runtime = parsed ??= JSON.parse(inflateSync(deps.payload).toString('utf8')) as RuntimePayload;
  const name = spec.name ?? `fork.${spec.contextId}`;
  const toHost = new MessageChannel();
  const toMain = new MessageChannel();
  return new Promise<Forked>((resolve, reject) => {
    let worker: Worker;
    try {
      const { workerData, ports } = brokerChannels({
        role: 'fork',
        contextId: spec.contextId,
        parentIds: [deps.myId, ...deps.parentIds],
        name,
        maxMessageSize: spec.maxMessageSize,
        unidirectional: spec.unidirectional,
        debug: spec.debug,
        payload: deps.payload,
        parentPort: toHost.port2,
        mainPort: toMain.port2,
      });
      deps.startBroker(workerData);
      const adopt = { main: toMain.port1, ...ports };
      const config = childConfig(spec, name, deps, { profiling: false, fork: { onStart: spec.fork.onStart, broker: adopt } });
      worker = new Worker(FORK_BOOT, {
        eval: true,
        workerData: { ...runtimeWithCache(runtime.main), J: runtime, P: deps.payload, C: config },
        transferList: [adopt.main, adopt.control, adopt.modules],
        resourceLimits: spec.fork.resourceLimits,
        execArgv: [],
        name: `mitogen ${name}`,
        stdout: false,
        stderr: false,
      });
      deps.threads.forkThreadStarted(worker);
    } catch (e) {
      reject(new StreamError(`${name}: could not start the fork's thread: ${(e as Error).message}`));
      return;
    }
    // When the fork's thread ends, its ports close: its broker instance sees that and shuts down.
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
      if (Buffer.from(first.buffer, first.byteOffset, first.byteLength).toString() !== `${MITO002}\n`) {
        fail(new StreamError(`${name}: unexpected first message from the fork`));
        return;
      }
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const { input, output } = portStreams(port1);
      const stream = new StreamActor(input, output, { remoteId: spec.contextId, name, maxMessageSize: spec.maxMessageSize, shared: deps.streamShared }, deps.streamEvents);
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
