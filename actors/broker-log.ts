/**
 * A broker's log lines, sent to its main thread as events. Warnings are
 * mostly about what peers send (forged ids, refused routes): a hostile child
 * could flood the log with them. At most `warnBudget` a second go out
 * (router.maxWarningsPerSecond); the rest are counted and reported in one line.
 */
import { DEFAULT_WARNINGS_PER_SECOND } from '../src/threads/log-level.js';
import type { LogLevel } from '../src/threads/log-level.js';
import type { BrokerEvent } from '../src/threads/thread-protocol.js';

export class BrokerLog {
  warnBudget = DEFAULT_WARNINGS_PER_SECOND;
  #warnWindow = 0;
  #warnsInWindow = 0;
  #suppressed = 0;
  readonly #name: string;
  readonly #emit: (ev: BrokerEvent) => void;

  constructor(name: string, public debug: boolean, emit: (ev: BrokerEvent) => void) {
    this.#name = name;
    this.#emit = emit;
  }

  /** Bound, so it can be handed on as a plain function. */
  readonly line = (level: LogLevel, text: string): void => {
    if (level === 'debug' && !this.debug) return;
    if (level === 'warn') {
      const now = Date.now();
      if (now - this.#warnWindow >= 1000) {
        this.#reportSuppressed();
        this.#warnWindow = now;
        this.#warnsInWindow = 0;
      }
      if (++this.#warnsInWindow > this.warnBudget) {
        if (this.#suppressed++ === 0) setTimeout(() => this.#reportSuppressed(), 1000 - (now - this.#warnWindow)).unref();
        return;
      }
    }
    this.#emit({ t: 'log', level, name: this.#name, text });
  };

  #reportSuppressed(): void {
    if (!this.#suppressed) return;
    this.#emit({ t: 'log', level: 'warn', name: this.#name, text: `${this.#suppressed} more warnings suppressed in one second (over ${this.warnBudget} a second: is a peer flooding bad frames?)` });
    this.#suppressed = 0;
  }
}
