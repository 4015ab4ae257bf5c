import test from 'ava';
import { buildFrame, decodeBody, encodeBody, encodeFrameBody, HEADER_SIZE, MAGIC, readHeader } from '../../src/wire/codec.js';
import { randomBytes } from 'node:crypto';
import { CallError, ChannelError, EofError, MitogenError, PasswordError, StreamError } from '../../src/wire/errors.js';

const roundTrip = (v: unknown): unknown => decodeBody(encodeBody(v));

test('every value type round-trips', (t) => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  const date = new Date('2026-11-24T06:00:00.123Z');
  const value = {
    n: 42, f: 1.5, neg: -7, s: 'héllo', t: true, nil: null, u: undefined,
    big: 123456789012345678901234567890n, negBig: -5n,
    bytes, date,
    map: new Map<unknown, unknown>([['a', 1], [2, new Set(['x'])]]),
    set: new Set([1, 'two', null]),
    arr: [1, [2, [3, undefined]]],
    nested: { deep: { deeper: new Map([['k', new Date(0)]]) } },
  };
  const back = roundTrip(value) as typeof value;
  t.deepEqual(back, value);
  t.true(back.bytes instanceof Uint8Array);
  t.true(back.date instanceof Date);
  t.is(back.date.getTime(), date.getTime());
  t.true('u' in back);
  t.is(back.u, undefined);
  t.is(typeof back.big, 'bigint');
  t.true(back.map instanceof Map);
  t.true(back.map.get(2) instanceof Set);
});

test('a Buffer travels as bytes and arrives as a Uint8Array with the same content', (t) => {
  const buf = Buffer.from('binary \x00\xff data');
  const back = roundTrip(buf) as Uint8Array;
  t.true(back instanceof Uint8Array);
  t.deepEqual(Buffer.from(back), buf);
});

test('large bytes are carried without inflation (no base64)', (t) => {
  const big = new Uint8Array(1 << 20).fill(7);
  const enc = encodeBody(big);
  t.true(enc.byteLength < big.byteLength + 16, `encoded ${enc.byteLength} bytes for ${big.byteLength}`);
});

test('errors round-trip with their class, message and extra fields', (t) => {
  const call = roundTrip(new CallError('TypeError: bad', 'TypeError', 'TypeError: bad\n    at x')) as CallError;
  t.true(call instanceof CallError);
  t.is(call.type, 'TypeError');
  t.is(call.remoteStack, 'TypeError: bad\n    at x');
  const pw = roundTrip(new PasswordError('wrong', 'sudo')) as PasswordError;
  t.true(pw instanceof PasswordError);
  t.is(pw.method, 'sudo');
  t.true(roundTrip(new EofError('eof')) instanceof StreamError);
  t.true(roundTrip(new ChannelError('gone')) instanceof MitogenError);
  const plain = new RangeError('out of range') as RangeError & { code?: string };
  plain.code = 'ERR_X';
  const back = roundTrip(plain) as Error & { code?: string };
  t.is(back.name, 'RangeError');
  t.is(back.message, 'out of range');
  t.is(back.code, 'ERR_X');
});

test('values the codec cannot carry are refused on the sending side, naming their type', (t) => {
  class Point { x = 1; }
  t.throws(() => encodeBody({ f: () => 1 }), { instanceOf: TypeError, message: /function/ });
  t.throws(() => encodeBody(new Point()), { instanceOf: TypeError, message: /Point/ });
  t.throws(() => encodeBody(Symbol('s')), { instanceOf: TypeError, message: /symbol/ });
  t.throws(() => encodeBody(new Float64Array(2)), { instanceOf: TypeError, message: /Float64Array/ });
  t.throws(() => encodeBody(new WeakMap()), { instanceOf: TypeError, message: /WeakMap/ });
});

test('frame header round-trips and a wrong magic is reported as corruption', (t) => {
  const body = encodeBody({ hello: 'world' });
  const frame = buildFrame({ dstId: 7, srcId: 3, authId: 0, handle: 1001, replyTo: 4242 }, body);
  t.is(frame.byteLength, HEADER_SIZE + body.byteLength);
  const h = readHeader(frame);
  t.deepEqual(h, { dstId: 7, srcId: 3, authId: 0, handle: 1001, replyTo: 4242, length: body.byteLength });
  t.is((frame[0]! << 8) | frame[1]!, MAGIC);
  frame[0] = 0x00;
  t.throws(() => readHeader(frame), { instanceOf: MitogenError, message: /Corruption detected: frame signature incorrect/ });
});

test('a large byte string alone is framed by the fast path with exactly the bytes msgpack would write', (t) => {
  for (const n of [(1 << 16) - 1, 1 << 16, (1 << 20) + 3]) {
    const bytes = new Uint8Array(randomBytes(n));
    const frame = encodeFrameBody(bytes);
    t.deepEqual(frame.subarray(HEADER_SIZE), encodeBody(bytes), `${n} bytes`);
    t.deepEqual(decodeBody(frame.subarray(HEADER_SIZE)), bytes);
  }
  // A Buffer is a Uint8Array and arrives as one.
  const buf = randomBytes(1 << 17);
  t.deepEqual(decodeBody(encodeFrameBody(buf).subarray(HEADER_SIZE)), new Uint8Array(buf));
});
