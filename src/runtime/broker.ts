/**
 * Broker: this thread's handle on its broker worker — the thread that owns
 * the context's streams and routes between them. The main thread talks to
 * it with raw frames (transferred, never copied) and a few control calls
 * (comlink on a port of their own).
 */
import { MessageChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Observable } from 'rxjs';
import type { BrokerControl, BrokerEvent, TraceRecord } from '../threads/thread-protocol.js';
import type { ConnectResult, ConnectSpec } from '../threads/bootstrap-types.js';
import { decodeBody } from '../wire/codec.js';
import { batchFrames, isFrameBatch, unbatchFrames } from '../wire/frame-batch.js';
import { framePool } from '../wire/frame-pool.js';
import type { FrameBatch } from '../wire/frame-batch.js';
import type { BrokerParams, BrokerPorts } from '../threads/bootstrap-types.js';
import { startBrokerWorker } from './broker-start.js';
import type { StartedBroker } from './broker-start.js';
import { MitogenError } from '../wire/errors.js';
import { unwrap } from '../wire/outcome.js';
import type { Outcome } from '../wire/outcome.js';

export interface BrokerSetup {
  /** The broker worker's source (an eval'd script). */
  source: string;
  init: BrokerParams;
}

let masterSetup: (() => BrokerSetup) | undefined;

/** Installed by the master entry points, so the child bundle never pulls in the bundler. */
export function setMasterBrokerSetup(fn: () => BrokerSetup): void {
  masterSetup = fn;
}

/** A broker worker this thread starts itself: from `setup`, or the master's setup. */
function startMasterWorker(setup: BrokerSetup | undefined): StartedBroker {
  const s = setup ?? masterSetup?.();
  if (!s) throw new MitogenError('no broker setup: import mitogen-ts (or mitogen-ts/master) before creating a Broker');
  return startBrokerWorker(s.source, s.init);
}

type FrameListener = (frame: Uint8Array) => void;
type EventListener = (ev: BrokerEvent) => void;

export class Broker {
  /** The broker worker, when this thread started it (not for a fork, whose broker its host runs). */
  readonly worker?: Worker;
  /** Where frames and events cross: the worker itself, or a port to it. */
  readonly #link: Worker | MessagePort;
  /** The port for synchronous module fetches (children only use it). */
  readonly modulesPort: MessagePort;
  readonly syncFlag: SharedArrayBuffer;
  readonly #api: Comlink.Remote<BrokerControl>;
  readonly #controlPort: MessagePort;
  #frameListener?: FrameListener;
  #eventListener?: EventListener;
  #holds = 0;
  #shutdownPromise?: Promise<void>;
  #exited = false;
  /** Whether the worker may keep this process alive when nothing waits on it. */
  readonly #keepAlive: boolean;

  /** `started`: a worker already started (a child starts its own before evaluating the rest of its runtime). */
  constructor(setup?: BrokerSetup | { adopt: BrokerPorts } | { started: StartedBroker }, opts: { keepAlive?: boolean } = {}) {
    if (setup && 'adopt' in setup) {
      this.#link = setup.adopt.main;
      this.#controlPort = setup.adopt.control;
      this.modulesPort = setup.adopt.modules;
      this.syncFlag = setup.adopt.syncFlag;
    } else {
      const started = setup && 'started' in setup ? setup.started : startMasterWorker(setup);
      this.#link = this.worker = started.worker;
      this.#controlPort = started.ports.control;
      this.modulesPort = started.ports.modules;
      this.syncFlag = started.ports.syncFlag;
    }
    this.#api = Comlink.wrap<BrokerControl>(nodeEndpoint(this.#controlPort as unknown as Parameters<typeof nodeEndpoint>[0]));
    this.#keepAlive = opts.keepAlive ?? false;
    this.#controlPort.unref();
    this.modulesPort.unref();
    if (!this.#keepAlive) this.#link.unref();
    this.#link.on('message', (data: FrameBatch | BrokerEvent) => {
      if (isFrameBatch(data)) unbatchFrames(data, (f) => this.#frameListener?.(f));
      else if (data.t === 'written') for (const b of data.buffers) framePool.give(b);
      else this.#eventListener?.(data);
    });
    if (this.worker) {
      this.worker.on('error', (e) => {
        process.stderr.write(`mitogen: broker worker failed: ${e.stack ?? e}\n`);
      });
      this.worker.on('exit', () => this.#markExited());
    } else {
      this.#link.on('close', () => this.#markExited());
    }
  }

  /** @internal For tests: this thread's pool of large-frame buffers (src/wire/frame-pool.ts). */
  get framePool(): { hits: number; returned: number; bytes: number } {
    return { hits: framePool.hits, returned: framePool.returned, bytes: framePool.bytes };
  }

  /** Where frames addressed to this thread go. */
  onFrame(fn: FrameListener): void { this.#frameListener = fn; }
  onEvent(fn: EventListener): void { this.#eventListener = fn; }

  /** Runs once when the broker ends, by shutdown() or by its worker exiting: nothing will arrive after. */
  onExit(fn: () => void): void {
    if (this.#exitNotified) queueMicrotask(fn);
    else this.#exitListeners.push(fn);
  }

  readonly #exitListeners: (() => void)[] = [];
  #exitNotified = false;

  #markExited(): void {
    this.#exited = true;
    if (this.#exitNotified) return;
    this.#exitNotified = true;
    for (const fn of this.#exitListeners.splice(0)) fn();
  }

  /**
   * Hands a frame to the router actor. The frame's memory moves to the worker.
   * Frames sent in one turn of the event loop cross in one postMessage (a
   * burst of 10k calls is one hand-off, not 10k); a lone frame goes as itself.
   */
  send(frame: Uint8Array): void {
    if (this.#exited) return;
    this.#outbox.push(frame);
    if (this.#outbox.length === 1) queueMicrotask(this.#flush);
  }

  readonly #outbox: Uint8Array[] = [];
  readonly #flush = (): void => {
    const frames = this.#outbox.splice(0);
    if (this.#exited || !frames.length) return;
    const { msg, transfer } = batchFrames(frames);
    this.#link.postMessage(msg, transfer);
  };

  /** Starts a child context from this context's broker. Errors keep their class and fields. */
  connect(spec: ConnectSpec): Promise<ConnectResult> {
    return this.control((api) => api.connect(spec));
  }

  /** The frames the broker routes, as records on a port of their own while subscribed (Router.routed$). */
  routed$(): Observable<TraceRecord> {
    return new Observable<TraceRecord>((sub) => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (r: TraceRecord) => sub.next(r));
      port1.on('close', () => sub.complete());
      // A trace watches; it does not keep the process alive.
      port1.unref();
      this.control((api) => api.traceRoutes(Comlink.transfer(port2, [port2] as never))).catch((e: unknown) => sub.error(e));
      return () => port1.close();
    });
  }

  /** Sends a port to the worker for module requests from the loader hooks. */
  addModulePort(port: MessagePort): Promise<void> {
    return this.control((api) => api.addModulePort(Comlink.transfer(port, [port] as never)));
  }

  /**
   * While anything waits on the broker (a call, a connect, a get()), the
   * worker keeps the process alive; when nothing does, the process may exit
   * by itself — its children then see EOF and exit too.
   */
  hold(): void {
    if (this.#holds++ === 0 && !this.#keepAlive && !this.#exited) this.#link.ref();
  }

  release(): void {
    if (--this.#holds === 0 && !this.#keepAlive && !this.#exited) this.#link.unref();
  }

  /** Control calls under way. */
  #controls = 0;

  /** Runs one control call, holding the process alive meanwhile; its failure is thrown with its class and fields. */
  async control<T>(fn: (api: Comlink.Remote<BrokerControl>) => Promise<Outcome<T, Uint8Array>>): Promise<T> {
    if (this.#exited) throw new MitogenError('the broker has shut down');
    this.hold();
    // Counted apart from hold(): the port stays referenced while any control call is out,
    // whatever calls and their replies do to the other count meanwhile.
    if (this.#controls++ === 0) this.#controlPort.ref();
    try {
      return unwrap(await fn(this.#api), decodeBody);
    } finally {
      if (--this.#controls === 0) this.#controlPort.unref();
      this.release();
    }
  }

  get isShutdown(): boolean {
    return this.#exited || this.#shutdownPromise !== undefined;
  }

  /** Stops every child, then the worker. Idempotent. */
  shutdown(): Promise<void> {
    return (this.#shutdownPromise ??= (async () => {
      if (!this.#exited) {
        // Held to the end: once the control call has returned nothing else may keep the
        // process alive, and it could exit before the worker's termination is reported
        // (a CLI would then end with status 0 before it had set its own).
        this.hold();
        try {
          try {
            await this.control((api) => api.shutdown());
          } catch { /* the worker may already be gone */ }
          this.#api[Comlink.releaseProxy]();
          this.#controlPort.close();
          this.modulesPort.close();
          // A fork's broker is its host's to end (it ends with the fork's thread).
          if (this.worker) await this.worker.terminate();
          else (this.#link as MessagePort).close();
        } finally {
          this.release();
        }
      }
      this.#markExited();
    })());
  }
}
