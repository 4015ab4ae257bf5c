/**
 * Mailbox: how every actor receives. Delivery is a plain synchronous call
 * (the hot path must not pay for Observables: see NODE-NOTES' RxJS figures);
 * an RxJS Subject exists only while somebody subscribes to `messages$`, so
 * watching an actor's traffic is free until used, and free again after.
 *
 * `A` and `B` are what the actor needs beside the item (a routed frame's
 * header and stream): passed as plain arguments, since a wrapper object per
 * item would be an allocation on the hot path. Observers see the item only.
 */
import { Observable, Subject } from 'rxjs';

export class Mailbox<T, A = void, B = void> {
  #subject?: Subject<T>;
  #closed = false;

  readonly #deliver: (item: T, a: A, b: B) => void;

  constructor(deliver: (item: T, a: A, b: B) => void) {
    this.#deliver = deliver;
  }

  post(item: T, a: A, b: B): void {
    if (this.#closed) return;
    // Observers first: they see the item even if delivery ends the actor (a dead message closing a Receiver).
    this.#subject?.next(item);
    this.#deliver(item, a, b);
  }

  /** True while somebody subscribes to messages$: only then does post() do more than deliver. */
  get observed(): boolean {
    return this.#subject !== undefined;
  }

  /** Every item posted while subscribed, for tracing and tests; completes when the mailbox closes. */
  get messages$(): Observable<T> {
    return new Observable<T>((sub) => {
      if (this.#closed) { sub.complete(); return undefined; }
      const subject = (this.#subject ??= new Subject<T>());
      const inner = subject.subscribe(sub);
      return () => {
        inner.unsubscribe();
        // The last observer gone: post() is a plain call again.
        if (this.#subject === subject && !subject.observed) this.#subject = undefined;
      };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subject?.complete();
    this.#subject = undefined;
  }
}
