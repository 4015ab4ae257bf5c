/**
 * Buffers for large frames, reused. A thread that hands a large frame to its
 * broker gets the buffer back once the broker has written it (the broker's
 * FrameRecycler): a fresh 1 MiB buffer per frame costs its page faults
 * (~0.4 ms a MiB here, more than the copy into it) and, once collected, its
 * unmapping. Buffers are kept by exact size: the large frames of one stream
 * (file chunks, a call returning blocks) repeat their size. Bounded, and let
 * go once unused for a while, so an idle context holds none.
 */

/** Frames from this size up are taken from the pool and handed back. */
export const POOLED_FRAME_MIN = 64 * 1024;
/** At most this many buffers of one size, and this many bytes in all. */
const PER_SIZE = 4;
const MAX_BYTES = 16 * 1024 * 1024;
/** The pool is emptied once nothing was taken from it for this long. */
const IDLE_MS = 2000;

export class FramePool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  #bytes = 0;
  #timer?: ReturnType<typeof setTimeout>;
  #used = false;
  /** Buffers taken from the pool, and returned to it: for tests. */
  hits = 0;
  returned = 0;

  /** A buffer of exactly `size` bytes that owns its memory (it may be transferred). */
  take(size: number): Uint8Array {
    const list = size >= POOLED_FRAME_MIN ? this.#free.get(size) : undefined;
    const ab = list?.pop();
    if (!ab) return new Uint8Array(size);
    this.#bytes -= size;
    this.hits++;
    this.#used = true;
    return new Uint8Array(ab);
  }

  /** A buffer handed back: kept if there is room for it. */
  give(ab: ArrayBuffer): void {
    const size = ab.byteLength;
    if (size < POOLED_FRAME_MIN || this.#bytes + size > MAX_BYTES) return;
    let list = this.#free.get(size);
    if (!list) { list = []; this.#free.set(size, list); }
    if (list.length >= PER_SIZE) return;
    list.push(ab);
    this.#bytes += size;
    this.returned++;
    this.#watch();
  }

  /** Bytes held for reuse. */
  get bytes(): number { return this.#bytes; }

  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = undefined; }
  }

  #watch(): void {
    if (this.#timer) return;
    this.#used = false;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#used) this.#watch();
      else this.clear();
    }, IDLE_MS);
    this.#timer.unref?.();
  }
}

/** This thread's pool: the large frames it encodes come from it. */
export const framePool = new FramePool();
