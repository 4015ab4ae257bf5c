/**
 * Reads what a child prints on stdout while it boots: lines until MITO002,
 * then the framed stream. Fed bytes in any chunks, it reports what they
 * mean and keeps the last lines for error messages; it knows nothing of
 * processes or streams, so context-actor owns the IO and this the parsing.
 */
import { MITOVER, STAGE_MARKERS } from '../../src/wire/bootstrap-markers.js';
import { LineTail } from './line-tail.js';

/** Bytes of one unfinished line printed before the markers that are buffered, at most. */
export const MAX_PRELUDE_LINE = 64 * 1024;

export type BootstrapEvent =
  /** MITO000 (stage 1) or MITO001 (stage 2) was read. */
  | { kind: 'stage'; stage: 1 | 2 }
  /** MITO002 was read (stage 3): `rest` is what followed it, the start of the framed stream. */
  | { kind: 'booted'; rest: Buffer }
  /** The interpreter is too old for the runtime: it printed its version and exits. */
  | { kind: 'too-old'; version: string }
  /** A line that is not a marker (a banner, a tool's message), kept for errors. */
  | { kind: 'line'; line: string }
  /** The output ended before MITO002. */
  | { kind: 'eof'; stage: number };

export class BootstrapParser {
  /** The last marker read: 0 before MITO000, 3 once MITO002 was. */
  stage = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #tail = new LineTail();
  /** Set by MITO002 or a too-old interpreter: what follows is not ours to read. */
  #done = false;

  /** The events the chunk completes, in order; none once done. */
  feed(chunk: Buffer): BootstrapEvent[] {
    if (this.#done) return [];
    const events: BootstrapEvent[] = [];
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    // Markers arrive in order; anything else printed is kept for errors.
    for (;;) {
      const nl = this.#buffer.indexOf(10);
      if (nl < 0) {
        // Junk with no newline is kept as a line of its own once it is long, so the buffer stays bounded.
        if (this.#buffer.length > MAX_PRELUDE_LINE) {
          this.#line(`${this.#buffer.subarray(0, 200).toString('utf8')}... (${this.#buffer.length} bytes with no newline)`, events);
          this.#buffer = Buffer.alloc(0);
        }
        return events;
      }
      const line = this.#buffer.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      this.#buffer = this.#buffer.subarray(nl + 1);
      if (line.startsWith(MITOVER)) {
        this.#done = true;
        events.push({ kind: 'too-old', version: line.slice(MITOVER.length) });
        return events;
      }
      const m = STAGE_MARKERS.indexOf(line as (typeof STAGE_MARKERS)[number]);
      if (m < 0) { this.#line(line, events); continue; }
      this.stage = m + 1;
      if (m === 2) {
        this.#done = true;
        events.push({ kind: 'booted', rest: this.#buffer });
        this.#buffer = Buffer.alloc(0);
        return events;
      }
      events.push({ kind: 'stage', stage: m === 0 ? 1 : 2 });
    }
  }

  /** The output ended: reports it unless the parser was done already. An unfinished line is dropped. */
  end(): BootstrapEvent[] {
    if (this.#done) return [];
    this.#done = true;
    return [{ kind: 'eof', stage: this.stage }];
  }

  /** The last lines read that were not markers, for error messages. */
  lastLines(): string {
    return this.#tail.text();
  }

  #line(line: string, events: BootstrapEvent[]): void {
    this.#tail.push(line + '\n');
    events.push({ kind: 'line', line });
  }
}
