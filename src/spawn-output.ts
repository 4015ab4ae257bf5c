/**
 * The output streams of a spawned process: Observables that are also async
 * iterables, built on ctx.observe so they inherit its credit flow control.
 * Each stream can be read once (stdout and lines('stdout') are one stream).
 */
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';

/** An Observable that is also `for await`-able (pulling with backpressure). */
export interface OutputStream<T> extends Observable<T>, AsyncIterable<T> {}

/** Opens the underlying remote stream; called at most once per stream. */
export type Open<T> = () => Promise<Observable<T> & AsyncIterable<T>>;

/** A stream that opens its source on first subscription (or iteration). */
export class ProcessOutput<T> extends Observable<T> implements AsyncIterable<T> {
  constructor(private readonly open: Open<T>) {
    super((subscriber) => {
      let inner: Subscription | undefined;
      let closed = false;
      open().then((source) => {
        // Torn down before the source opened: subscribe anyway so the context
        // learns of it (and drops the output, or kills with killOnUnsubscribe).
        inner = source.subscribe(subscriber);
        if (closed) inner.unsubscribe();
      }, (e: unknown) => subscriber.error(e));
      return () => { closed = true; inner?.unsubscribe(); };
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.open();
  }
}

/** Splits decoded text into lines (without '\n' or '\r\n'); the last partial line comes at the end. */
class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private rest = '';

  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    return lines.map(stripCr);
  }

  flush(): string[] {
    const last = this.rest + this.decoder.decode();
    this.rest = '';
    return last ? [stripCr(last)] : [];
  }
}

const stripCr = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** The decoded lines of a byte stream: an Observable, also async iterable. */
export class LineStream extends Observable<string> implements AsyncIterable<string> {
  constructor(private readonly bytes: OutputStream<Uint8Array>) {
    super((subscriber) => {
      const split = new LineSplitter();
      return bytes.subscribe({
        next: (chunk) => { for (const line of split.push(chunk)) subscriber.next(line); },
        error: (e) => subscriber.error(e),
        complete: () => {
          for (const line of split.flush()) subscriber.next(line);
          subscriber.complete();
        },
      });
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    const split = new LineSplitter();
    for await (const chunk of this.bytes) yield* split.push(chunk);
    yield* split.flush();
  }
}
