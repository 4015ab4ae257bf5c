/**
 * A child's stream to its parent: its fds 0 and 1, or (a fork's broker) a
 * port to its host. The broker announces itself with MITO002 on it, which
 * ends the bootstrap on the parent's side. The master has none.
 */
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { BrokerInit } from '../src/threads/bootstrap-types.js';
import { MITO002 } from '../src/wire/bootstrap-markers.js';
import { portStreams } from './port-stream.js';
import { StreamActor } from './stream-actor.js';
import type { StreamEvents, StreamShared } from './stream-actor.js';

export function openParentStream(init: BrokerInit, shared: StreamShared, events: StreamEvents): StreamActor | null {
  if (init.role === 'master') return null;
  const io: { input: Readable; output: Writable } = init.role === 'fork' ? portStreams(init.parentPort) : {
    input: new net.Socket({ fd: init.parentFds.in, readable: true, writable: false }),
    output: new net.Socket({ fd: init.parentFds.out, readable: false, writable: true }),
  };
  io.output.write(`${MITO002}\n`);
  return new StreamActor(io.input, io.output, {
    remoteId: init.parentIds[0]!, name: 'parent', maxMessageSize: init.maxMessageSize, shared,
  }, events);
}
