/**
 * The children and forks a broker started: kept until they exit, and asked
 * to shut down (then made to) when the broker shuts down.
 */
import type { Worker } from 'node:worker_threads';
import { buildFrame, encodeBody } from '../src/wire/codec.js';
import { SHUTDOWN } from '../src/wire/handles.js';
import type { ChildLike } from './openers/opener.js';
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
      // A child is asked to shut down, and made to: its process must be gone.
      ...[...this.#children].map(([stream, child]) => child.exitCode !== null || child.signalCode !== null ? undefined
        : this.#stop(stream, child, [[3000, () => child.kill('SIGTERM')], [5000, () => child.kill('SIGKILL')]])),
      // A fork's thread is terminated if it does not go.
      ...[...this.#forks].map(([stream, worker]) => this.#stop(stream, worker, [[3000, () => worker.terminate()]])),
    ]);
  }

  /** Sends SHUTDOWN on `stream`, then the `escalation` steps at their times until `started` exits. */
  #stop(stream: StreamActor, started: { once(event: 'exit', fn: () => void): unknown }, escalation: [number, () => unknown][]): Promise<void> {
    return new Promise((resolve) => {
      if (!stream.isClosed) {
        stream.write(buildFrame({ dstId: stream.remoteId, srcId: this.#myId, authId: this.#myId, handle: SHUTDOWN, replyTo: 0 }, encodeBody(null)));
      }
      const timers = escalation.map(([ms, step]) => setTimeout(step, ms));
      started.once('exit', () => {
        for (const t of timers) clearTimeout(t);
        resolve();
      });
    });
  }
}
