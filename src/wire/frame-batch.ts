/**
 * How a turn's frames cross between a context's main thread and its broker
 * worker. Transferring an ArrayBuffer has a fixed cost (it is detached,
 * serialised and re-created on the other side, and each is one more object
 * for the GC), so a burst of small frames — 10k concurrent calls — is copied
 * into buffers of up to PACK_SIZE and cut apart on arrival: a handful of
 * transfers instead of 10k. Large frames still move by transfer, never
 * copied. (A frame cut from a pack shares its buffer, so a message kept
 * long keeps at most one pack alive.)
 */
import { HEADER_SIZE, ownsBuffer, readU32 } from './codec.js';

/** Frames at most this long are packed; a longer one is worth its own transfer. */
export const PACK_MAX_FRAME = 16 * 1024;
/** A pack is closed once it holds this much. */
export const PACK_SIZE = 1024 * 1024;

/** What crosses: one frame, several (each transferred), or packs to cut apart. */
export type FrameBatch = Uint8Array | Uint8Array[] | { packs: Uint8Array[] };

/**
 * A frame that is the whole of its buffer, so it can move. A view into a larger
 * buffer (a frame cut from a socket read) is copied out: posted as it is, the
 * structured clone would copy the whole buffer behind it.
 */
function own(f: Uint8Array): Uint8Array {
  return ownsBuffer(f) ? f : f.slice();
}

function packable(f: Uint8Array): boolean {
  if (f.byteLength < HEADER_SIZE || f.byteLength > PACK_MAX_FRAME) return false;
  return readU32(f, 22) === f.byteLength - HEADER_SIZE;
}

/** The message to post for `frames` (sent in order), and the buffers to transfer with it. */
export function batchFrames(frames: Uint8Array[]): { msg: FrameBatch; transfer: ArrayBuffer[] } {
  if (frames.length === 1) {
    const f = own(frames[0]!);
    return { msg: f, transfer: [f.buffer as ArrayBuffer] };
  }
  for (const f of frames) {
    if (!packable(f)) {
      const fs = frames.map(own);
      return { msg: fs, transfer: fs.map((x) => x.buffer as ArrayBuffer) };
    }
  }
  const packs: Uint8Array[] = [];
  for (let i = 0; i < frames.length;) {
    let size = 0;
    let j = i;
    while (j < frames.length && (j === i || size + frames[j]!.byteLength <= PACK_SIZE)) size += frames[j++]!.byteLength;
    const pack = new Uint8Array(size);
    for (let off = 0; i < j; i++) { pack.set(frames[i]!, off); off += frames[i]!.byteLength; }
    packs.push(pack);
  }
  return { msg: { packs }, transfer: packs.map((p) => p.buffer as ArrayBuffer) };
}

/** Hands each frame of a received batch to `each`, in order. */
export function unbatchFrames(msg: FrameBatch, each: (frame: Uint8Array) => void): void {
  if (msg instanceof Uint8Array) { each(msg); return; }
  if (Array.isArray(msg)) { for (const f of msg) each(f); return; }
  for (const p of msg.packs) {
    for (let off = 0; off < p.byteLength;) {
      const end = off + HEADER_SIZE + readU32(p, off + 22);
      each(p.subarray(off, end));
      off = end;
    }
  }
}

/** True for a message that is a batch of frames (the other messages on the port are events). */
export function isFrameBatch(data: unknown): data is FrameBatch {
  return data instanceof Uint8Array || Array.isArray(data) || (typeof data === 'object' && data !== null && Array.isArray((data as { packs?: unknown }).packs));
}
