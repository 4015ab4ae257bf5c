/**
 * The limits a router's broker enforces for it (the largest message, the
 * warnings logged per second, the bytes that may wait unsent on a stream,
 * the bytes one module reply may preload, unidirectional routing): kept
 * here, where the router reads them, and pushed to the broker, which
 * applies them. The broker's debug switch is pushed the same way.
 */
import type { Broker } from './broker.js';
import { DEFAULT_MAX_UNSENT_BYTES } from '../wire/handles.js';
import { DEFAULT_WARNINGS_PER_SECOND, log } from './log.js';
import type { BrokerApi } from '../threads/thread-protocol.js';

export const DEFAULT_MAX_MESSAGE_SIZE = 128 * 1024 * 1024;

export type BrokerLimits = Parameters<BrokerApi['setLimits']>[0];

export class RouterLimits implements Readonly<Required<BrokerLimits>> {
  readonly maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  readonly warnBudget = DEFAULT_WARNINGS_PER_SECOND;
  readonly maxUnsentBytes = DEFAULT_MAX_UNSENT_BYTES;
  readonly preloadBytes = 16 * 1024 * 1024;
  readonly shareCodeCache: boolean = false;
  readonly unidirectional: boolean;

  /** `name` is the router's, for the warning when a push fails. */
  constructor(private readonly broker: Pick<Broker, 'control' | 'isShutdown'>, private readonly name: string, unidirectional: boolean) {
    this.unidirectional = unidirectional;
  }

  /** Keeps the limit and has the broker apply it. */
  set<K extends keyof BrokerLimits>(key: K, value: Required<BrokerLimits>[K]): void {
    Object.assign(this, { [key]: value }); // the one writer of the fields above
    this.push(`${key} ${value}`, (api) => api.setLimits({ [key]: value }));
  }

  /** Turns the broker's debug records on or off. */
  setDebug(on: boolean): void {
    this.push(`debug ${on}`, (api) => api.setDebug(on));
  }

  /**
   * Nobody awaits a push (a setter cannot), so its failure is logged here.
   * A broker that has shut down is left out on purpose: it enforces nothing
   * any more, and a router may well be configured after its shutdown (a
   * test's or a script's cleanup).
   */
  private push(what: string, fn: Parameters<Broker['control']>[0]): void {
    void this.broker.control(fn).catch((e: unknown) => {
      if (!this.broker.isShutdown) log('warn', `${this.name}: its broker did not take ${what}: ${(e as Error)?.message ?? e}`);
    });
  }
}
