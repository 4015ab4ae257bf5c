/**
 * The children and forks a broker started: kept until they exit, and asked
 * to shut down (then made to) when the broker shuts down.
 */
import type { Worker } from 'node:worker_threads';
import { buildFrame, encodeBody } from '../src/codec.js';
import { SHUTDOWN } from '../src/handles.js';
import type { ChildLike } from './context-actor.js';
import type { StreamActor } from './stream-actor.js';

export class StartedContexts {
  readonly #children = new Map<StreamActor, ChildLike>();
  readonly #forks = new Map<StreamActor, Worker>();
  /** Fork threads started whose Worker has not yet emitted 'exit' (by then Node has joined the OS thread). */
  forkThreads = 0;

  readonly #myId: number;

  constructor(myId: number) {
    this.#myId = myId;
  }

  addChild(stream: StreamActor, child: ChildLike): void {
    this.#children.set(stream, child);
    child.once('exit', () => this.#children.delete(stream));
  }

  /** A fork's thread, from its start (it counts before its stream exists). */
  forkThreadStarted(worker: Worker): void {
    this.forkThreads++;
    worker.once('exit', () => { this.forkThreads--; });
  }

  addFork(stream: StreamActor, worker: Worker): void {
    this.#forks.set(stream, worker);
    worker.once('exit', () => this.#forks.delete(stream));
  }

  stopAll(): Promise<unknown> {
    return Promise.all([
      ...[...this.#children].map(([stream, child]) => this.#stopChild(stream, child)),
      ...[...this.#forks].map(([stream, worker]) => this.#stopFork(stream, worker)),
    ]);
  }

  #askToShutDown(stream: StreamActor): void {
    if (!stream.isClosed) {
      stream.write(buildFrame({ dstId: stream.remoteId, srcId: this.#myId, authId: this.#myId, handle: SHUTDOWN, replyTo: 0 }, encodeBody(null)));
    }
  }

  /** Asks a fork to shut down; its thread is terminated if it does not go. */
  #stopFork(stream: StreamActor, worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      worker.once('exit', () => resolve());
      this.#askToShutDown(stream);
      const t = setTimeout(() => { void worker.terminate(); }, 3000);
      worker.once('exit', () => clearTimeout(t));
    });
  }

  /** Asks a child to shut down, and makes sure its process is gone. */
  #stopChild(stream: StreamActor, child: ChildLike): Promise<void> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      this.#askToShutDown(stream);
      const t1 = setTimeout(() => child.kill('SIGTERM'), 3000);
      const t2 = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(t1); clearTimeout(t2); });
    });
  }
}
