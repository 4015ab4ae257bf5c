/**
 * Mailbox: how every actor receives. Delivery is a plain synchronous call
 * (the hot path must not pay for Observables: see NODE-NOTES' RxJS figures);
 * an RxJS Subject is created only when somebody observes the mailbox, so
 * watching an actor's traffic is free until used.
 */
import { Observable, Subject } from 'rxjs';

export class Mailbox<T> {
  #subject?: Subject<T>;
  #closed = false;

  readonly #deliver: (item: T) => void;

  constructor(deliver: (item: T) => void) {
    this.#deliver = deliver;
  }

  post(item: T): void {
    if (this.#closed) return;
    this.#deliver(item);
    this.#subject?.next(item);
  }

  /** Every item posted from now on, for tracing and tests. */
  get messages$(): Observable<T> {
    return (this.#subject ??= new Subject<T>()).asObservable();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subject?.complete();
  }
}
