/**
 * The wire codec, in one file: the fixed frame header and the msgpack body.
 *
 * Frame: 26 bytes, big-endian, the same shape as Mitogen's `>hLLLLLL`:
 *   magic u16 ('MT') | dstId u32 | srcId u32 | authId u32 | handle u32 | replyTo u32 | length u32
 * followed by `length` bytes of body.
 *
 * Body: msgpack with extension types for what JSON-like data lacks. Bytes are
 * msgpack `bin` (copied once, never base64'd). Anything the codec cannot carry
 * faithfully — a function, a symbol, an instance of a class — is refused on
 * the sending side with a TypeError that names its type.
 */
import { Decoder, Encoder, ExtData, EXT_TIMESTAMP, decodeTimestampExtension, encodeTimestampExtension } from '@msgpack/msgpack';
import type { ExtensionCodecType } from '@msgpack/msgpack';
import { CallError, errorClasses, MitogenError, PasswordError, StreamError } from './errors.js';
import { framePool } from './frame-pool.js';

// ---------------------------------------------------------------- header

export const MAGIC = 0x4d54; // 'MT'
export const HEADER_SIZE = 26;

export interface Header {
  dstId: number;
  srcId: number;
  authId: number;
  handle: number;
  replyTo: number;
  length: number;
}

// Header fields are read and written byte by byte: a DataView per frame is one
// more allocation on the hottest path (every message, on every thread).

/** The big-endian u32 at `off` in `b`. */
export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24; b[off + 1] = v >>> 16; b[off + 2] = v >>> 8; b[off + 3] = v;
}

/** Writes a header into the first 26 bytes of `frame` (whose body is already in place). */
export function writeHeader(frame: Uint8Array, h: Omit<Header, 'length'>): void {
  frame[0] = MAGIC >>> 8; frame[1] = MAGIC & 0xff;
  writeU32(frame, 2, h.dstId);
  writeU32(frame, 6, h.srcId);
  writeU32(frame, 10, h.authId);
  writeU32(frame, 14, h.handle);
  writeU32(frame, 18, h.replyTo);
  writeU32(frame, 22, frame.byteLength - HEADER_SIZE);
}

/** Reads a header; throws a MitogenError on a wrong magic (the stream is corrupt). */
export function readHeader(buf: Uint8Array, offset = 0): Header {
  if (buf.byteLength - offset < HEADER_SIZE) throw new RangeError(`a frame header needs ${HEADER_SIZE} bytes, ${buf.byteLength - offset} given`);
  const magic = (buf[offset]! << 8) | buf[offset + 1]!;
  if (magic !== MAGIC) {
    throw new MitogenError(`Corruption detected: frame signature incorrect (0x${magic.toString(16).padStart(4, '0')})`);
  }
  return {
    dstId: readU32(buf, offset + 2), srcId: readU32(buf, offset + 6), authId: readU32(buf, offset + 10),
    handle: readU32(buf, offset + 14), replyTo: readU32(buf, offset + 18), length: readU32(buf, offset + 22),
  };
}

/** True when a frame is the whole of its ArrayBuffer: transferring it to another thread moves nothing else. */
export function ownsBuffer(frame: Uint8Array): boolean {
  return frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength;
}

/** Builds a whole frame from a body. One allocation, one copy of the body. */
export function buildFrame(h: Omit<Header, 'length'>, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_SIZE + body.byteLength);
  frame.set(body, HEADER_SIZE);
  writeHeader(frame, h);
  return frame;
}

// ---------------------------------------------------------------- body

/** Extension type numbers (msgpack's -1 is its own timestamp, used for Date). */
export const EXT = {
  undefined: 1,
  bigint: 2,
  map: 3,
  set: 4,
  error: 5,
  context: 6,
  sender: 7,
} as const;

/**
 * Objects that travel by reference (Context, Sender) implement this: they
 * return what identifies them on the wire. The codec needs no import of them.
 */
export const WIRE_REF = Symbol.for('mitogen-ts.wireRef');
export type WireRef = ['context', number, string] | ['sender', number, number];
export interface WireReferable { [WIRE_REF](): WireRef }

/** How the receiving side turns wire references back into live objects. */
export interface CodecContext {
  context(id: number, name: string): unknown;
  sender(contextId: number, handle: number): unknown;
}

const NO_REFS: CodecContext = {
  context: (id, name) => ({ contextId: id, name }),
  sender: (contextId, handle) => ({ contextId, handle }),
};

interface WireError { name: string; message: string; stack?: string; type?: string; remoteStack?: string; method?: string; code?: unknown }

function typeName(v: unknown): string {
  if (typeof v === 'function') return `function${v.name ? ` ${v.name}` : ''}`;
  if (typeof v !== 'object' || v === null) return typeof v;
  const ctor = (v as { constructor?: { name?: string } }).constructor;
  return ctor?.name ?? 'object';
}

class WireCodec implements ExtensionCodecType<CodecContext> {
  declare __brand?: CodecContext;

  tryToEncode(v: unknown, ctx: CodecContext): ExtData | null {
    if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v) || v instanceof Uint8Array) return null;
      const proto = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) return null;
      if (v instanceof Date) return new ExtData(EXT_TIMESTAMP, encodeTimestampExtension(v)!);
      if (v instanceof Map) {
        const flat: unknown[] = [];
        for (const [k, val] of v) flat.push(k, val);
        return new ExtData(EXT.map, nested(flat, ctx));
      }
      if (v instanceof Set) return new ExtData(EXT.set, nested([...v], ctx));
      if (v instanceof Error) return new ExtData(EXT.error, nested(errorToWire(v), ctx));
      const ref = (v as Partial<WireReferable>)[WIRE_REF];
      if (typeof ref === 'function') {
        const r = ref.call(v);
        return new ExtData(r[0] === 'context' ? EXT.context : EXT.sender, nested([r[1], r[2]], ctx));
      }
      throw new TypeError(`cannot send a value of type ${typeName(v)}: only plain objects, arrays, primitives, Uint8Array, Date, bigint, undefined, Map, Set, Error, Context and Sender travel`);
    }
    if (typeof v === 'bigint') return new ExtData(EXT.bigint, textEncoder.encode(v.toString()));
    throw new TypeError(`cannot send a value of type ${typeName(v)}`);
  }

  decode(data: Uint8Array, type: number, ctx: CodecContext): unknown {
    switch (type) {
      case EXT_TIMESTAMP: return decodeTimestampExtension(data);
      case EXT.undefined: return undefined;
      case EXT.bigint: return BigInt(textDecoder.decode(data));
      case EXT.map: {
        const flat = unnested(data, ctx) as unknown[];
        const m = new Map();
        for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
        return m;
      }
      case EXT.set: return new Set(unnested(data, ctx) as unknown[]);
      case EXT.error: return errorFromWire(unnested(data, ctx) as WireError);
      case EXT.context: { const [id, name] = refOf(unnested(data, ctx), 'string'); return ctx.context(id, name); }
      case EXT.sender: { const [id, handle] = refOf(unnested(data, ctx), 'number'); return ctx.sender(id, handle); }
      default: throw new StreamError(`unknown msgpack extension type ${type}`);
    }
  }
}

/** A Context or Sender reference must be [id, name] or [id, handle]: a peer may send anything. */
function refOf<K extends 'string' | 'number'>(v: unknown, second: K): [number, K extends 'string' ? string : number] {
  if (!Array.isArray(v) || v.length !== 2 || !Number.isInteger(v[0]) || typeof v[1] !== second) {
    throw new StreamError(`malformed ${second === 'string' ? 'Context' : 'Sender'} reference`);
  }
  return v as [number, K extends 'string' ? string : number];
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const codec = new WireCodec();
const UNDEFINED_EXT = new ExtData(EXT.undefined, new Uint8Array(0));

type WireEncoder = Encoder<CodecContext>;
interface EncoderInternals {
  doEncode(object: unknown, depth: number): void;
  encodeExtension(ext: ExtData): void;
}

/** msgpack's Encoder folds `undefined` into nil before extensions are asked; keep it. */
function newEncoder(ctx: CodecContext): WireEncoder {
  const e = new Encoder<CodecContext>({ extensionCodec: codec, context: ctx });
  const inner = e as unknown as EncoderInternals;
  const doEncode = inner.doEncode.bind(e);
  inner.doEncode = (object, depth) => {
    if (object === undefined) inner.encodeExtension(UNDEFINED_EXT);
    else doEncode(object, depth);
  };
  return e;
}

function errorToWire(e: Error): WireError {
  const w: WireError = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof CallError) { w.type = e.type; w.remoteStack = e.remoteStack; }
  if (e instanceof PasswordError) w.method = e.method;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') w.code = code;
  return w;
}

function errorFromWire(w: WireError): Error {
  if (typeof w !== 'object' || w === null || typeof w.name !== 'string') throw new StreamError('malformed error value');
  // Own names only: a peer's "constructor" or "toString" must not reach Object.prototype.
  const Known = Object.hasOwn(errorClasses, w.name) ? errorClasses[w.name] : undefined;
  let e: Error;
  if (Known === CallError) e = new CallError(w.message, w.type, w.remoteStack);
  else if (Known === PasswordError) e = new PasswordError(w.message, (w.method ?? 'ssh') as PasswordError['method']);
  else if (Known) e = new Known(w.message);
  else { e = new Error(w.message); e.name = w.name; }
  if (w.stack) e.stack = w.stack;
  if (w.code !== undefined) (e as { code?: unknown }).code = w.code;
  return e;
}

// One encoder per thread: reusing it avoids an allocation per message (msgpack
// clones it itself when re-entered by a nested extension).
let sharedEncoder: WireEncoder | undefined;
const encoders = new WeakMap<CodecContext, WireEncoder>();

function encoderFor(ctx: CodecContext): WireEncoder {
  if (ctx === NO_REFS) return (sharedEncoder ??= newEncoder(NO_REFS));
  let e = encoders.get(ctx);
  if (!e) { e = newEncoder(ctx); encoders.set(ctx, e); }
  return e;
}

function nested(v: unknown, ctx: CodecContext): Uint8Array {
  return newEncoder(ctx).encode(v);
}

function unnested(data: Uint8Array, ctx: CodecContext): unknown {
  return new Decoder({ extensionCodec: codec, context: ctx }).decode(data);
}

/** From this size up (bin32's range), a lone Uint8Array skips the encoder. */
const LARGE_BIN = 1 << 16;

/**
 * Encodes a body straight into a frame with HEADER_SIZE bytes left free at the
 * front, so sending costs one copy of the body. The header is written later by
 * whoever routes it. A large frame's buffer may come from this thread's
 * framePool (so its bytes are not zeroed: every one is written).
 */
export function encodeFrameBody(value: unknown, ctx: CodecContext = NO_REFS): Uint8Array {
  // A large byte string alone (a file chunk, a call returning bytes) is
  // written as msgpack bin32 straight into the frame: one copy, not two.
  if (value instanceof Uint8Array && value.byteLength >= LARGE_BIN) {
    const n = value.byteLength;
    const frame = framePool.take(HEADER_SIZE + 5 + n);
    frame[HEADER_SIZE] = 0xc6;
    new DataView(frame.buffer).setUint32(HEADER_SIZE + 1, n);
    frame.set(value, HEADER_SIZE + 5);
    return frame;
  }
  const body = encoderFor(ctx).encodeSharedRef(value);
  const frame = framePool.take(HEADER_SIZE + body.byteLength);
  frame.set(body, HEADER_SIZE);
  return frame;
}

/**
 * Encodes a value into this thread's encoder buffer: the view is valid only
 * until the next encode, so the caller copies it at once (observe-frame.ts
 * packs many values this way without an allocation each).
 */
export function encodeBodyShared(value: unknown, ctx: CodecContext = NO_REFS): Uint8Array {
  return encoderFor(ctx).encodeSharedRef(value);
}

/** Encodes a value to a standalone msgpack body. */
export function encodeBody(value: unknown, ctx: CodecContext = NO_REFS): Uint8Array {
  return encoderFor(ctx).encode(value);
}

const decoders = new WeakMap<CodecContext, Decoder<CodecContext>>();

/**
 * Decodes a body. Byte strings come back as views into `data` (no copy). A
 * body that is not valid msgpack, or carries an extension we do not know,
 * throws StreamError("invalid message: …"), as Mitogen's unpickle() does:
 * a peer's bytes never surface as a bare RangeError deep in a handler.
 */
export function decodeBody(data: Uint8Array, ctx: CodecContext = NO_REFS): unknown {
  let d = decoders.get(ctx);
  if (!d) { d = new Decoder({ extensionCodec: codec, context: ctx }); decoders.set(ctx, d); }
  try {
    return d.decode(data);
  } catch (e) {
    throw new StreamError(`invalid message: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}
