/**
 * Latch: a queue one side puts into and another awaits (Mitogen's Latch,
 * which wakes threads; here it wakes promises). A Select can wait on it
 * beside Receivers.
 */
import { LatchError, TimeoutError } from '../wire/errors.js';
import type { Selectable } from './selectable.js';

export class Latch<T = unknown> implements Selectable<T> {
  static readonly closedMsg = 'the Latch has been closed';
  private readonly items: T[] = [];
  private readonly waiters: { resolve(v: T): void; reject(e: Error): void; timer?: NodeJS.Timeout }[] = [];
  private closed = false;
  private readyListener?: () => void;

  put(item: T): void {
    if (this.closed) throw new LatchError(Latch.closedMsg);
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(item);
      return;
    }
    this.items.push(item);
    this.readyListener?.();
  }

  get size(): number { return this.items.length; }
  empty(): boolean { return this.items.length === 0; }

  get(opts: { timeout?: number } = {}): Promise<T> {
    // As in Mitogen, a closed latch refuses get() even with items still queued.
    if (this.closed) return Promise.reject(new LatchError(Latch.closedMsg));
    if (this.items.length) return Promise.resolve(this.items.shift()!);
    return new Promise<T>((resolve, reject) => {
      const w: (typeof this.waiters)[number] = { resolve, reject };
      if (opts.timeout !== undefined) {
        w.timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          reject(new TimeoutError(`Latch.get() timed out after ${opts.timeout} seconds`));
        }, opts.timeout * 1000);
      }
      this.waiters.push(w);
    });
  }

  /** Wakes every waiter with LatchError; later puts fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(new LatchError(Latch.closedMsg));
    }
    this.readyListener?.();
  }

  /** @internal Select support. */
  takeReady(): { item: T } | undefined {
    return this.items.length ? { item: this.items.shift()! } : undefined;
  }

  /** @internal Select support: called when an item is ready or the latch closed. */
  setReadyListener(fn: (() => void) | undefined): void {
    this.readyListener = fn;
  }

  get isClosed(): boolean { return this.closed; }
}
