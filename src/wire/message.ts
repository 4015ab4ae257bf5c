/**
 * Message: one addressed frame. The header fields say where it goes and who
 * may answer; `data` is the msgpack body, decoded only by whoever consumes it
 * (routers never decode bodies).
 */
import { buildFrame, decodeBody, encodeFrameBody, HEADER_SIZE, writeHeader } from './codec.js';
import type { CodecContext } from './codec.js';
import { CallError, ChannelError } from './errors.js';
import { IS_DEAD } from './handles.js';

/** What a Message needs from the router that received it, to decode and reply. */
export interface MessageRouter {
  readonly codecContext: CodecContext;
  route(msg: Message): void;
}

export interface MessageFields {
  dstId?: number;
  srcId?: number;
  authId?: number;
  handle?: number;
  replyTo?: number;
}

export class Message {
  dstId = 0;
  srcId = 0;
  authId = 0;
  handle = 0;
  replyTo = 0;
  /** The msgpack body. */
  data: Uint8Array;
  /** The router this message arrived through (set on receipt). */
  router?: MessageRouter;
  /** When set, `data` sits at offset HEADER_SIZE of this buffer: routing writes the header in place. */
  private frameBuf?: Uint8Array;

  constructor(fields: MessageFields = {}, data: Uint8Array = EMPTY) {
    Object.assign(this, fields);
    this.data = data;
  }

  /** A message whose body is `obj`, encoded now (so encoding errors surface at the caller). */
  static encoded(obj: unknown, fields: MessageFields = {}, ctx?: CodecContext): Message {
    const frame = encodeFrameBody(obj, ctx);
    const m = new Message(fields, frame.subarray(HEADER_SIZE));
    m.frameBuf = frame;
    return m;
  }

  /** A dead message: it tells its recipient the channel is gone, and why. */
  static dead(reason = ChannelError.remoteMsg, fields: MessageFields = {}): Message {
    const m = Message.encoded(reason, fields);
    m.replyTo = IS_DEAD;
    return m;
  }

  /** Rebuilds a Message from a whole received frame (header + body), without copying. */
  static fromFrame(frame: Uint8Array, header: { dstId: number; srcId: number; authId: number; handle: number; replyTo: number }): Message {
    const m = new Message(header, frame.subarray(HEADER_SIZE));
    m.frameBuf = frame;
    return m;
  }

  get isDead(): boolean {
    return this.replyTo === IS_DEAD;
  }

  /** The frame to put on the wire: header written in place when possible. */
  toFrame(): Uint8Array {
    if (this.frameBuf && this.frameBuf.byteLength === HEADER_SIZE + this.data.byteLength
        && this.frameBuf.buffer === this.data.buffer && this.data.byteOffset === this.frameBuf.byteOffset + HEADER_SIZE) {
      writeHeader(this.frameBuf, this);
      return this.frameBuf;
    }
    return buildFrame(this, this.data);
  }

  /**
   * Decodes the body. A dead message throws ChannelError carrying its reason,
   * as Mitogen's unpickle(throw_dead=True) does.
   */
  decode(opts: { throwDead?: boolean } = {}): unknown {
    if (this.isDead && opts.throwDead !== false) {
      throw new ChannelError(this.deadReason());
    }
    const v = decodeBody(this.data, this.router?.codecContext);
    // As Mitogen's unpickle(): a CallError body is the remote side's failure.
    if (v instanceof CallError) throw v;
    return v;
  }

  /** The reason a dead message carries. */
  deadReason(): string {
    try {
      const r = decodeBody(this.data);
      return typeof r === 'string' && r ? r : ChannelError.remoteMsg;
    } catch {
      return ChannelError.remoteMsg;
    }
  }

  /** Sends `obj` (or a ready Message) back to this message's replyTo handle. */
  reply(obj: unknown, fields: MessageFields = {}): void {
    if (!this.router) throw new ChannelError('cannot reply: message has no router');
    if (!this.replyTo || this.isDead) return;
    const m = obj instanceof Message ? obj : Message.encoded(obj, {}, this.router.codecContext);
    m.dstId = this.srcId;
    m.handle = this.replyTo;
    Object.assign(m, fields);
    this.router.route(m);
  }

  toString(): string {
    return `Message(${this.dstId}, ${this.srcId}, ${this.authId}, ${this.handle}, ${this.replyTo}, ${this.data.byteLength} bytes)`;
  }
}

const EMPTY = new Uint8Array(0);
