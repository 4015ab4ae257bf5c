/**
 * A broker's port to its context's main thread: frames both ways, batched
 * per turn, and events from the broker. For a broker worker it is the
 * worker's parent port; for a fork's broker, a port to the fork's thread.
 */
import type { MessagePort } from 'node:worker_threads';
import { batchFrames, isFrameBatch, unbatchFrames } from '../src/wire/frame-batch.js';
import type { BrokerEvent } from '../src/threads/thread-protocol.js';
import { FrameRecycler } from './frame-recycler.js';

export class MainThreadLink {
  readonly #outbox: Uint8Array[] = [];
  readonly #port: MessagePort;

  /** The main thread's large frames, given back once the broker's streams have written them. */
  readonly recycler: FrameRecycler;

  constructor(port: MessagePort) {
    this.#port = port;
    this.recycler = new FrameRecycler((buffers) => this.emit({ t: 'written', buffers }, buffers));
  }

  emit(ev: BrokerEvent, transfer?: ArrayBuffer[]): void {
    this.#port.postMessage(ev, transfer);
  }

  /**
   * Frames for the main thread produced in one turn (e.g. many frames cut
   * from one socket read) cross in one postMessage. A frame cut from a socket
   * read shares that read's buffer, which Node never reuses: batchFrames
   * copies or moves it.
   */
  send(frame: Uint8Array): void {
    this.#outbox.push(frame);
    if (this.#outbox.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const frames = this.#outbox.splice(0);
    if (!frames.length) return;
    const { msg, transfer } = batchFrames(frames);
    this.#port.postMessage(msg, transfer);
  }

  /** Frames from the main thread, one at a time. */
  onFrame(fn: (frame: Uint8Array) => void): void {
    this.#port.on('message', (data: unknown) => {
      if (isFrameBatch(data)) unbatchFrames(data, (f) => { this.recycler.adopt(f); fn(f); });
    });
  }
}
