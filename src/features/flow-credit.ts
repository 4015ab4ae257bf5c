/**
 * The receiving side's grant policy, shared by every credit-controlled
 * stream: ctx.observe (observe.ts) and the transfer kit's byte streams
 * (transfer-kit.ts: putFile, getFile, fakessh).
 *
 * It is one function of nothing, returning the class, which the transfer
 * kit is given in its `env` and everyone else imports and calls once (it was
 * shipped as source with the kit until session 10, hence its shape).
 *
 * The policy: credit goes back once half a window (of bytes, or of values
 * when capped) has been taken, or at once when the producer says it waits
 * for credit, has seen all our credit so far, and nothing is left here to
 * take (so no threshold can leave both ends waiting). When the consumer runs
 * dry while the producer waits, and then waits longer than it had worked,
 * twice running, the link's round trip and not the consumer is the limit:
 * the next grant doubles the window, up to its maximum. See
 * docs/flow-control.md.
 */

/** A checked window (flow-window.ts): bytes, a value cap (0: none) and the most the window may grow to. */
export interface CreditWindow { bytes: number; messages: number; maxBytes: number }

/** Credit to send back: `values` values (chunks) of `bytes` bytes taken, and the window, when it grew. */
export interface Grant { values: number; bytes: number; window?: number }

export interface CreditGrantor {
  /** The current window in bytes. */
  readonly bytes: number;
  /** Grants handed out so far. */
  readonly grants: number;
  /**
   * Data (or an empty notice) arrived: `count` values, and the producer's
   * word that it now waits for credit, having seen `acksSeen` grants.
   */
  received(count: number, blocked: boolean, acksSeen: number): void;
  /** The consumer took `values` values of `bytes` bytes. */
  taken(values: number, bytes: number): void;
  /** The grant to send now, if one is due (it counts as sent). */
  due(): Grant | undefined;
}

export type CreditGrantorClass = new (window: CreditWindow) => CreditGrantor;

export function creditPolicy(): CreditGrantorClass {
  class Grantor implements CreditGrantor {
    private readonly w: CreditWindow;
    /** Received and not yet taken. */
    private untaken = 0;
    /** Taken since the last grant. */
    private takenValues = 0;
    private takenBytes = 0;
    private sent = 0;
    /** The producer's latest word: it waits for credit, having seen this many grants. */
    private producerBlocked = false;
    private producerAcks = 0;
    /** When the consumer last ran dry with the producer blocked, and when it last started work after a wait. */
    private idleSince: number | undefined;
    private busySince = 0;
    /** Arrivals in a row that found this consumer waiting longer than it had worked. */
    private starved = 0;
    /** The next grant doubles the window. */
    private growNext = false;

    constructor(window: CreditWindow) {
      this.w = { ...window };
    }

    get bytes(): number { return this.w.bytes; }
    get grants(): number { return this.sent; }

    received(count: number, blocked: boolean, acksSeen: number): void {
      this.tune();
      this.producerBlocked = blocked;
      this.producerAcks = acksSeen;
      this.untaken += count;
    }

    taken(values: number, bytes: number): void {
      this.untaken -= values;
      this.takenValues += values;
      this.takenBytes += bytes;
    }

    /**
     * Something arrived. If we had run dry while the producer waited, and
     * waited longer than we had worked, twice running (one late arrival on a
     * busy machine does not count), the next grant grows the window. A slow
     * consumer, or one whose next data was already queued, never waits longer
     * than it works.
     */
    private tune(): void {
      const now = performance.now();
      if (this.idleSince !== undefined) {
        this.starved = now - this.idleSince > this.idleSince - this.busySince ? this.starved + 1 : 0;
        if (this.starved >= 2) { this.growNext = true; this.starved = 0; }
        this.busySince = now;
        this.idleSince = undefined;
      } else if (this.busySince === 0) {
        this.busySince = now;
      }
    }

    due(): Grant | undefined {
      const drained = this.producerBlocked && this.untaken === 0;
      if (drained && this.idleSince === undefined) this.idleSince = performance.now();
      if (this.takenValues === 0) return undefined;
      const w = this.w;
      const stalled = drained && this.producerAcks === this.sent;
      if (!stalled && this.takenBytes * 2 < w.bytes && !(w.messages && this.takenValues * 2 >= w.messages)) return undefined;
      const grow = this.growNext && w.bytes < w.maxBytes;
      this.growNext = false;
      if (grow) w.bytes = Math.min(w.bytes * 2, w.maxBytes);
      const g: Grant = grow ? { values: this.takenValues, bytes: this.takenBytes, window: w.bytes } : { values: this.takenValues, bytes: this.takenBytes };
      this.sent++;
      this.takenValues = 0;
      this.takenBytes = 0;
      return g;
    }
  }
  return Grantor;
}
