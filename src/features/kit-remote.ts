/**
 * Running the transfer kit on both ends of a transfer: here with this
 * context's own modules (localKit), there through the same kit the target's
 * runtime bundles (remoteOp): every context runs the master's runtime, so
 * the far end already holds this very kit, and a call names the operation
 * instead of carrying the kit's source (kitOp, in the dispatcher's scope).
 */
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContextView, RouterView } from '../runtime/context-view.js';
import { creditPolicy } from './flow-credit.js';
import { Message as MessageClass } from '../wire/message.js';
import { Sender as SenderClass } from '../channels/sender.js';
import { transferKit } from './transfer-kit.js';
import type { RemoteOp, TransferKit } from './transfer-kit.js';

// Inside a called function this is the dispatcher's scope (src/runtime/child-main.ts), not an import.
declare const kitOp: (op: RemoteOp, ...args: unknown[]) => Promise<unknown>;

/** Shipped to a target (a few dozen characters): runs one operation of the target's own kit. */
function runKitOp(op: RemoteOp, ...args: unknown[]): Promise<unknown> {
  return kitOp(op, ...args);
}

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
  // An operation lasts as long as its transfer or command: router.callTimeout does not bound it.
  return ctx.callWith({ timeout: Infinity }, runKitOp, op, ...args) as Promise<Awaited<ReturnType<TransferKit[K]>>>;
}

/** What a context's dispatcher offers calls as `kitOp`: an operation of this context's own kit. */
export function kitOpFor(router: RouterView): (op: RemoteOp, ...args: unknown[]) => Promise<unknown> {
  return (op, ...args) => (localKit(router)[op] as (...a: unknown[]) => Promise<unknown>)(...args);
}
