/**
 * The output streams of a spawned process: Observables that are also async
 * iterables, built on ctx.observe so they inherit its credit flow control.
 * Each stream can be read once (stdout and lines('stdout') are one stream).
 */
import { Observable } from 'rxjs';
import type { Subscription } from 'rxjs';

/** An Observable that is also `for await`-able (pulling with backpressure). */
export interface OutputStream<T> extends Observable<T>, AsyncIterable<T> {}

/** Opens the underlying remote stream; it may be read once, so this throws the second time. */
export type Open<T> = () => Observable<T> & AsyncIterable<T>;

/**
 * A stream that opens its source on subscription (or iteration). `started`
 * settles when the process has started: if it rejects (the process never
 * ran), so does the stream, whose remote side ends empty.
 */
export class ProcessOutput<T> extends Observable<T> implements AsyncIterable<T> {
  constructor(private readonly open: Open<T>, private readonly started: Promise<unknown>) {
    super((subscriber) => {
      let source: Observable<T>;
      try {
        source = open();
      } catch (e) {
        subscriber.error(e);
        return undefined;
      }
      started.catch((e: unknown) => subscriber.error(e));
      const inner: Subscription = source.subscribe({
        next: (v) => subscriber.next(v),
        error: (e: unknown) => subscriber.error(e),
        complete: () => { started.then(() => subscriber.complete(), (e: unknown) => subscriber.error(e)); },
      });
      return () => inner.unsubscribe();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* this.open();
    await this.started;
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
