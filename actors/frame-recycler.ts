/**
 * FrameRecycler: hands the large frames a broker's main thread gave it back
 * to that thread once they are written, so the thread's next large frame
 * reuses their memory (src/wire/frame-pool.ts says why). A buffer
 * transferred from the main thread is the broker's alone; once a socket has
 * written it (the write's callback: the bytes are in the kernel), nothing
 * holds it, and it moves back. Only sockets: another Writable's callback
 * does not mean that (a PassThrough calls back with the chunk still queued,
 * an ssh2 channel may hold it until its window opens), and a buffer given
 * back while still queued would be sent as the next frame's bytes, or, detached,
 * as none (StreamActor decides which of its outputs qualify).
 */
import { ownsBuffer } from '../src/wire/codec.js';
import { POOLED_FRAME_MIN } from '../src/wire/frame-pool.js';

export class FrameRecycler {
  readonly #ours = new WeakSet<ArrayBufferLike>();
  readonly #back: ArrayBuffer[] = [];
  readonly #send: (buffers: ArrayBuffer[]) => void;

  /** `send` moves buffers back to the main thread (transferring them). */
  constructor(send: (buffers: ArrayBuffer[]) => void) {
    this.#send = send;
  }

  /** A frame from the main thread: its buffer goes back once written, if it is worth it. */
  adopt(frame: Uint8Array): void {
    if (frame.byteLength >= POOLED_FRAME_MIN && ownsBuffer(frame)) this.#ours.add(frame.buffer);
  }

  /** The callback for a stream write of `frame`, when its buffer is to go back. */
  onWritten(frame: Uint8Array): ((err?: Error | null) => void) | undefined {
    const ab = frame.buffer;
    if (!this.#ours.has(ab)) return undefined;
    this.#ours.delete(ab);
    return (err) => {
      // A stream that moved the buffer on (a port to a fork) left it detached: nothing to give back.
      if (err || ab.byteLength === 0) return;
      this.#back.push(ab as ArrayBuffer);
      if (this.#back.length === 1) queueMicrotask(() => this.#send(this.#back.splice(0)));
    };
  }
}
