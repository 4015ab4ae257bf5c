/**
 * A byte stream over a MessagePort, so a fork (a context in a worker thread)
 * talks to its host exactly as a child process does over its pipes: the
 * StreamActor on each side neither knows nor cares.
 */
import { Readable, Writable } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { ownsBuffer } from '../src/wire/codec.js';

export function portStreams(port: MessagePort): { input: Readable; output: Writable } {
  const input = new Readable({ read() { /* pushed as messages arrive */ } });
  port.on('message', (m: Uint8Array) => { input.push(Buffer.from(m.buffer, m.byteOffset, m.byteLength)); });
  port.on('close', () => input.push(null));
  const output = new Writable({
    write(chunk: Uint8Array, _enc, cb) {
      // A frame that owns its buffer moves; anything else is copied.
      if (ownsBuffer(chunk)) port.postMessage(chunk, [chunk.buffer as ArrayBuffer]);
      else port.postMessage(chunk);
      cb();
    },
    final(cb) { port.close(); cb(); },
    destroy(_e, cb) { port.close(); cb(null); },
  });
  return { input, output };
}
