/**
 * Running the transfer kit on both ends of a transfer: here with this
 * context's own modules (localKit), there by shipping the kit's source with a
 * call (remoteOp). The target compiles the source once and keeps it, keyed by
 * the source itself, so a newer master never meets a stale kit.
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { functionSource } from '../wire/call.js';
import type { ContextView, RouterView } from '../runtime/context-view.js';
import { creditPolicy } from './flow-credit.js';
import type { CreditGrantorClass } from './flow-credit.js';
import { Message as MessageClass } from '../wire/message.js';
import { Sender as SenderClass } from '../channels/sender.js';
import { transferKit } from './transfer-kit.js';
import type { KitEnv, RemoteOp, TransferKit } from './transfer-kit.js';

// Inside a called function these are the dispatcher's scope (src/runtime/dispatcher.ts),
// not imports: runKitOp runs only in a target, compiled from its source.
declare const currentRouter: () => RouterView | undefined;
declare const Message: typeof MessageClass;
declare const Sender: typeof SenderClass;
declare const require: (id: string) => unknown;

/**
 * Shipped to a target: compiles the kit (and the grant policy it shares with
 * ctx.observe, flow-credit.ts: neither can import) once per source text,
 * then runs one of its operations.
 */
async function runKitOp(kitSrc: string, creditSrc: string, op: RemoteOp, ...args: unknown[]): Promise<unknown> {
  const g = globalThis as unknown as Record<symbol, Map<string, TransferKit> | undefined>;
  const key = Symbol.for('mitogen-ts.transferKit');
  const cache = (g[key] ??= new Map<string, TransferKit>());
  const cacheKey = `${creditSrc}\n${kitSrc}`;
  let kit = cache.get(cacheKey);
  if (!kit) {
    const setName = <T>(f: T, value: string): T => {
      try { Object.defineProperty(f, 'name', { value, configurable: true }); } catch { /* frozen */ }
      return f;
    };
    const compile = <F>(src: string): F => new Function('__name', `return (${src}\n)`)(setName) as F;
    const make = compile<(env: KitEnv) => TransferKit>(kitSrc);
    const policy = compile<() => CreditGrantorClass>(creditSrc);
    kit = make({
      router: currentRouter()!, Message, Sender,
      fs: require('node:fs') as KitEnv['fs'],
      path: require('node:path') as KitEnv['path'],
      os: require('node:os') as KitEnv['os'],
      childProcess: require('node:child_process') as KitEnv['childProcess'],
      Grantor: policy(),
    });
    cache.set(cacheKey, kit);
  }
  return (kit[op] as (...a: unknown[]) => Promise<unknown>)(...args);
}

let kitSrc: string | undefined;
let creditSrc: string | undefined;
const localKits = new WeakMap<RouterView, TransferKit>();

/** The kit bound to this context's router and modules. */
export function localKit(router: RouterView): TransferKit {
  let kit = localKits.get(router);
  if (!kit) {
    kit = transferKit({ router, Message: MessageClass, Sender: SenderClass, fs, path, os, childProcess, Grantor: creditPolicy() });
    localKits.set(router, kit);
  }
  return kit;
}

/** Runs `kit[op](...args)` in `ctx`; Senders among the args arrive working. */
export function remoteOp<K extends RemoteOp>(ctx: ContextView, op: K, ...args: Parameters<TransferKit[K]>): Promise<Awaited<ReturnType<TransferKit[K]>>> {
  kitSrc ??= functionSource(transferKit);
  creditSrc ??= functionSource(creditPolicy);
  // An operation lasts as long as its transfer or command: router.callTimeout does not bound it.
  return ctx.callWith({ timeout: Infinity }, runKitOp, kitSrc, creditSrc, op, ...args) as Promise<Awaited<ReturnType<TransferKit[K]>>>;
}
