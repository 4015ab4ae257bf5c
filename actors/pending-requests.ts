/**
 * Requests a broker makes itself (a module from its parent, a block of ids
 * from the master): each waits on a reply handle of its own, from
 * BROKER_HANDLE_BASE up, and fails when the stream it went out on closes.
 */
import { decodeBody } from '../src/wire/codec.js';
import type { Header } from '../src/wire/codec.js';
import { ChannelError } from '../src/wire/errors.js';
import { BROKER_HANDLE_BASE, IS_DEAD } from '../src/wire/handles.js';
import type { RouterActor } from './router-actor.js';
import type { StreamActor } from './stream-actor.js';

interface Pending { resolve(v: unknown): void; reject(e: Error): void; dstId: number }

export class PendingRequests {
  #nextHandle = BROKER_HANDLE_BASE;
  readonly #pending = new Map<number, Pending>();
  readonly #router: RouterActor;

  constructor(router: RouterActor) {
    this.#router = router;
  }

  request(dstId: number, handle: number, body: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const replyTo = this.#nextHandle++;
      this.#pending.set(replyTo, { resolve, reject, dstId });
      this.#router.post(dstId, handle, body, replyTo);
    });
  }

  /** A reply on one of our handles; false when no request waits on it. */
  settle(h: Header, body: Uint8Array): boolean {
    const p = this.#pending.get(h.handle);
    if (!p) return false;
    this.#pending.delete(h.handle);
    let v: unknown;
    try { v = decodeBody(body); } catch (e) { p.reject(e as Error); return true; }
    if (h.replyTo === IS_DEAD) p.reject(new ChannelError(typeof v === 'string' ? v : ChannelError.remoteMsg));
    else p.resolve(v);
    return true;
  }

  /** Fails the requests whose replies would have come back on `stream`. */
  failVia(stream: StreamActor, why?: string): void {
    for (const [h, p] of this.#pending) {
      if (this.#router.streamFor(p.dstId) === stream || stream.remoteId === p.dstId) {
        this.#pending.delete(h);
        p.reject(new ChannelError(`context ${p.dstId} disconnected${why ? ` ${why}` : ''}`));
      }
    }
  }

  failAll(): void {
    for (const p of this.#pending.values()) p.reject(new ChannelError(ChannelError.localMsg));
    this.#pending.clear();
  }
}
