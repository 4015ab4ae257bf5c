/** mitogen.utils: helpers around a Router's lifetime, and the clock. */
import './master/broker-setup.js';
import { Broker } from './runtime/broker.js';
import { Router } from './runtime/router.js';

export { enableDebug, logToFile, logRecords } from './runtime/log.js';
export type { LogRecord, LogLevel } from './runtime/log.js';
export { currentRouter } from './runtime/current.js';

const t0 = performance.timeOrigin;

/** Monotonic seconds, like Mitogen's mitogen.core.now(). */
export function now(): number {
  return (t0 + performance.now()) / 1000;
}

/** Makes a Broker and Router, runs `fn`, and always shuts both down. */
export async function runWithRouter<T>(fn: (router: Router) => Promise<T> | T): Promise<T> {
  const broker = new Broker();
  const router = new Router(broker);
  try {
    return await fn(router);
  } finally {
    await router.shutdown();
    await broker.shutdown();
  }
}

/** Decorator-style: `withRouter(fn)(...args)` runs `fn(router, ...args)` in runWithRouter. */
export function withRouter<A extends unknown[], T>(fn: (router: Router, ...args: A) => Promise<T> | T): (...args: A) => Promise<T> {
  return (...args: A) => runWithRouter((router) => fn(router, ...args));
}
