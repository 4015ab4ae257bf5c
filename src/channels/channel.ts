/**
 * Channel: a Receiver here and a Sender to a handle there, in one object
 * (Mitogen's Channel, which inherits from both). Two contexts each holding a
 * Channel aimed at the other's handle have a duplex conversation.
 */
import type { Context } from '../runtime/context.js';
import { Receiver } from './receiver.js';
import type { Router } from '../runtime/router.js';
import { Sender } from './sender.js';

export class Channel extends Receiver {
  readonly sender: Sender;
  /** Kept as given: the Sender holds it only as the ContextView it sends through. */
  private readonly peer: Context;

  constructor(router: Router, context: Context, dstHandle: number, handle?: number) {
    super(router, { handle, respondent: context });
    this.sender = new Sender(context, dstHandle);
    this.peer = context;
  }

  get context(): Context { return this.peer; }
  get dstHandle(): number { return this.sender.dstHandle; }

  send(obj: unknown): void {
    this.sender.send(obj);
  }

  /** Closes both halves: our Receiver, and the far side's by a dead message. */
  override close(): void {
    super.close();
    this.sender.close();
  }
}
