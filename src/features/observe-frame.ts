/**
 * The batch frame of a remote stream: ['b', values, blocked, acksSeen].
 *
 * Each value is encoded once, when it is produced, so its exact size is
 * known for credit before it is sent; a batch is then the concatenation of
 * those encodings behind a msgpack array header, built in one allocation
 * (msgpack is self-delimiting, so the result decodes as the array of the
 * values). A large byte string is kept as it is and copied once, into the
 * frame.
 */
import { encodeBodyShared, HEADER_SIZE } from '../wire/codec.js';
import type { CodecContext } from '../wire/codec.js';
import { Message } from '../wire/message.js';

/** From this size up, a Uint8Array value skips the encoder (written as bin32 straight into the frame). */
const LARGE_BIN = 1 << 16;

/**
 * Where small encoded values live: slices of a shared block, handed out in
 * order and never reused (a block goes when the last piece in it does), so a
 * stream of small values costs an allocation per block, not per value.
 */
const BLOCK = 256 * 1024;
let block = new Uint8Array(BLOCK);
let blockAt = 0;

/** `n` bytes of fresh memory: a slice of the current block, or (a quarter block and up) an allocation of its own. */
function room(n: number): Uint8Array {
  if (n * 4 > BLOCK) return new Uint8Array(n);
  if (blockAt + n > BLOCK) { block = new Uint8Array(BLOCK); blockAt = 0; }
  const r = block.subarray(blockAt, blockAt + n);
  blockAt += n;
  return r;
}

/** One encoded value: its msgpack bytes, or a large byte string written as bin32 when the frame is built. */
export class Piece {
  private constructor(private readonly encoded: Uint8Array | undefined, private readonly bin: Uint8Array | undefined, readonly size: number,
    private readonly owned = false) {}

  /**
   * Encodes `v` now (an unsendable value throws here, at the producer).
   * `keep`: the piece may wait, so a large byte string is copied rather than
   * referenced (the producer may reuse its buffer).
   */
  static of(v: unknown, ctx: CodecContext, keep: boolean): Piece {
    if (v instanceof Uint8Array) {
      const n = v.byteLength;
      if (n >= LARGE_BIN) return new Piece(undefined, keep ? v.slice() : v, 5 + n, keep);
      // What the encoder writes for a byte string (bin8 or bin16), without its per-value set-up.
      const head = n < 0x100 ? 2 : 3;
      const e = room(head + n);
      if (head === 2) { e[0] = 0xc4; e[1] = n; } else { e[0] = 0xc5; e[1] = n >>> 8; e[2] = n & 0xff; }
      e.set(v, head);
      return new Piece(e, undefined, e.byteLength);
    }
    const shared = encodeBodyShared(v, ctx);
    const e = room(shared.byteLength);
    e.set(shared);
    return new Piece(e, undefined, e.byteLength);
  }

  /** Whether this piece refers to the producer's own buffer: it must go out before the producer runs on. */
  get borrowed(): boolean { return this.bin !== undefined && !this.owned; }

  /** This piece, safe to hold past the current turn. */
  kept(): Piece {
    return this.borrowed ? new Piece(undefined, this.bin!.slice(), this.size, true) : this;
  }

  writeInto(frame: Uint8Array, at: number): number {
    if (this.encoded) {
      frame.set(this.encoded, at);
    } else {
      const b = this.bin!;
      frame[at] = 0xc6;
      writeU32(frame, at + 1, b.byteLength);
      frame.set(b, at + 5);
    }
    return at + this.size;
  }
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24; b[off + 1] = v >>> 16; b[off + 2] = v >>> 8; b[off + 3] = v;
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

/** The message for a batch of pieces: one allocation, each piece copied once. */
export function batchMessage(pieces: readonly Piece[], bytes: number, blocked: boolean, acksSeen: number, fields: { dstId: number; handle: number }): Message {
  const n = pieces.length;
  // 0x94 'b' | array header | values | bool | uint32
  const bodyLen = 3 + arrayHeaderSize(n) + bytes + 1 + 5;
  const frame = new Uint8Array(HEADER_SIZE + bodyLen);
  let at = HEADER_SIZE;
  frame[at++] = 0x94;
  frame[at++] = 0xa1;
  frame[at++] = 0x62;
  if (n < 16) {
    frame[at++] = 0x90 | n;
  } else if (n < 0x10000) {
    frame[at++] = 0xdc; frame[at++] = n >>> 8; frame[at++] = n & 0xff;
  } else {
    frame[at++] = 0xdd; writeU32(frame, at, n); at += 4;
  }
  for (const p of pieces) at = p.writeInto(frame, at);
  frame[at++] = blocked ? 0xc3 : 0xc2;
  frame[at++] = 0xce;
  writeU32(frame, at, acksSeen >>> 0);
  return Message.fromFrame(frame, { dstId: fields.dstId, srcId: 0, authId: 0, handle: fields.handle, replyTo: 0 });
}
