/**
 * Sender: the writing end of a channel — a (context, handle) pair. It can be
 * passed inside call arguments and arrives as a working Sender.
 */
import { WIRE_REF } from '../wire/codec.js';
import type { WireRef } from '../wire/codec.js';
import type { ContextView } from '../runtime/context-view.js';
import { Message } from '../wire/message.js';

export class Sender {
  static readonly closedMsg = 'the Sender has been closed';

  constructor(readonly context: ContextView, readonly dstHandle: number) {}

  send(obj: unknown): void {
    this.context.send(Message.encoded(obj, { handle: this.dstHandle }, this.context.router.codecContext));
  }

  /** Ends the channel: the receiving side's iteration stops. */
  close(): void {
    this.context.send(Message.dead(Sender.closedMsg, { handle: this.dstHandle }));
  }

  [WIRE_REF](): WireRef {
    return ['sender', this.context.contextId, this.dstHandle];
  }

  toString(): string {
    return `Sender(${this.context.contextId}, ${this.dstHandle})`;
  }
}
