/**
 * The handle table: which function takes a message addressed to each of this
 * context's handles, what it takes (replies from the one context it waits
 * on, what its policy allows), and which handles wait on which context, so a
 * disconnect can answer them. The Router fills it (addHandler) and hands it
 * every message that arrives, through its mailbox: a plain call unless
 * somebody traces this thread's traffic (router.trace$, ctx.messages$).
 */
import { Mailbox } from '../../actors/mailbox.js';
import type { HandlerOptions, Policy, RouterView } from './context-view.js';
import { MitogenError } from '../wire/errors.js';
import { FIRST_DYNAMIC_HANDLE } from '../wire/handles.js';
import { log } from './log.js';
import { Message } from '../wire/message.js';

interface HandlerEntry {
  fn: (msg: Message) => void;
  persist: boolean;
  policy?: Policy;
  respondent?: number;
}

export class HandleTable {
  private readonly handlers = new Map<number, HandlerEntry>();
  /** The handles waiting on each context. */
  private readonly respondents = new Map<number, Set<number>>();
  private nextHandle = FIRST_DYNAMIC_HANDLE;
  /** Every message this thread receives passes here; observing it is how tracing sees them. */
  readonly inbox = new Mailbox<Message>((msg) => this.deliver(msg));

  constructor(private readonly router: RouterView) {}

  /** Registers `fn` under `opts.handle` (else a new handle) and returns the handle. */
  add(fn: (msg: Message) => void, opts: HandlerOptions): number {
    if (opts.handle !== undefined && this.handlers.has(opts.handle)) {
      // Replacing a live handler (perhaps a Receiver's) would silently steal its replies.
      throw new MitogenError(`cannot register a handle that already exists: ${opts.handle}`);
    }
    const handle = opts.handle ?? this.nextHandle++;
    const entry: HandlerEntry = { fn, persist: opts.persist ?? true, policy: opts.policy };
    if (opts.respondent) {
      entry.respondent = opts.respondent.contextId;
      let set = this.respondents.get(entry.respondent);
      if (!set) this.respondents.set(entry.respondent, (set = new Set()));
      set.add(handle);
    }
    this.handlers.set(handle, entry);
    return handle;
  }

  delete(handle: number): void {
    const e = this.handlers.get(handle);
    if (!e) return;
    this.handlers.delete(handle);
    if (e.respondent !== undefined) this.respondents.get(e.respondent)?.delete(handle);
  }

  /**
   * The handles waiting on context `id`, which has gone, each to be answered
   * dead: forgotten here, and yielded only while still registered (answering
   * one may remove another).
   */
  *takeWaitingOn(id: number): Generator<number> {
    const handles = this.respondents.get(id);
    this.respondents.delete(id);
    if (handles) for (const h of handles) if (this.handlers.has(h)) yield h;
  }

  /** Hands `msg` to its handler, if it has one that takes it; a sender awaiting a reply to a refused message gets a dead one. */
  deliver(msg: Message): void {
    const { name, myId } = this.router;
    const entry = this.handlers.get(msg.handle);
    if (!entry) {
      if (!msg.isDead) {
        log('debug', `${name}: no handler for ${msg}`);
        if (msg.replyTo) this.router.route(Message.dead(`invalid handle ${msg.handle} in context ${myId}`, { dstId: msg.srcId, handle: msg.replyTo }));
      }
      return;
    }
    // As Mitogen's _invoke: a handler waiting on one context takes replies from it alone
    // (dead messages excepted: a router on the way may report the route gone).
    if (entry.respondent !== undefined && !msg.isDead && msg.srcId !== entry.respondent) {
      log('warn', `${name}: reply from unexpected context ${msg.srcId} for handle ${msg.handle}, which waits on context ${entry.respondent}: dropped ${msg}`);
      if (msg.replyTo) this.router.route(Message.dead(`reply from unexpected context: handle ${msg.handle} of context ${myId} waits on context ${entry.respondent}`, { dstId: msg.srcId, handle: msg.replyTo }));
      return;
    }
    if (entry.policy && !msg.isDead && !entry.policy(msg, this.router)) {
      log('warn', `${name}: message refused by policy: ${msg}`);
      if (msg.replyTo) this.router.route(Message.dead(`message refused by policy: context ${msg.authId} may not use handle ${msg.handle} of context ${myId}`, { dstId: msg.srcId, handle: msg.replyTo }));
      return;
    }
    if (!entry.persist) this.delete(msg.handle);
    try {
      entry.fn(msg);
    } catch (e) {
      log('error', `${name}: handler for ${msg} threw: ${(e as Error).stack ?? e}`);
    }
  }

  /**
   * Removes every handler, persistent ones too, handing each a dead message
   * with `reason`: nothing will arrive any more, so nothing may wait for it.
   */
  drain(reason: string): void {
    const { name, myId } = this.router;
    for (const [handle, entry] of [...this.handlers]) {
      if (this.handlers.get(handle) !== entry) continue; // removed (or replaced) by an earlier handler's dead message
      this.delete(handle);
      try {
        entry.fn(Object.assign(Message.dead(reason, { dstId: myId, srcId: myId, handle }), { router: this.router }));
      } catch (e) {
        log('error', `${name}: handler for handle ${handle} threw on the shutdown dead message: ${(e as Error).stack ?? e}`);
      }
    }
  }
}
