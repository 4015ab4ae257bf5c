// The design floor: mitogen-ts's own path with no runtime on it. Plain Node,
// no codec, no router, 64-byte frames:
//
//   master main ─hop─▶ master's worker ─pipe─▶ child's worker ─hop─▶ child's main
//        ▲                                                               │
//        └──────hop──── master's worker ◀─pipe── child's worker ◀─hop────┘
//
// One file plays every part, by role:
//   require('./design-floor.cjs').start(mode)   the master's main thread (the bench's own): starts
//                                                the master's worker, which owns the child's pipes
//   workerData.role === 'master-worker'          spawns `node design-floor.cjs child MODE`, relays
//                                                frames between its main thread and the child's stdio
//   node design-floor.cjs child MODE             the child's main thread: starts its worker and
//                                                answers every frame with itself, back the same way
//   workerData.role === 'child-worker'           owns fds 0/1 (net.Socket, as a broker does) and
//                                                relays frames between them and its main thread
//
// The thread hop (main <-> worker, on both sides) is one of:
//   port     the Worker's own port (worker.postMessage / parentPort), as mitogen-ts's broker link
//   channel  a dedicated MessageChannel whose port is transferred to the worker
//   sab      a SharedArrayBuffer ring each way, the reader parked in Atomics.waitAsync
//   transfer the Worker's own port, each frame's ArrayBuffer transferred, not copied (a frame that
//            is a view into a larger buffer is copied out first), as mitogen-ts's frame batches do
//   batch    the Worker's own port, but everything one thread sends in one turn (the frames cut
//            from one pipe read, the replies made for them) crosses in one postMessage, and the
//            frames for one pipe write go out in one write
//   direct   no hop in the child: its main thread reads fd 0 and writes fd 1 itself (the master's
//            side as `port`) — what a design with fewer hops would pay, not a hop of this one
// On the pipe a frame is a 4-byte big-endian length and its payload.
//
// With `stamps` (start(mode, { stamps: true })) each thread writes process.hrtime.bigint() (one
// monotonic clock for every thread and process) into the frame as it passes: slot 0 the master's
// worker on receipt from its main thread, 1 the child's worker on reading it from the pipe, 2 the
// child's main on receipt, 3 the child's worker on receipt from its main, 4 the master's worker on
// reading it back — what each hop of the round trip takes, with no clock but the frame's.
'use strict';
const { Worker, MessageChannel, isMainThread, parentPort, workerData } = require('node:worker_threads');

const MODES = ['port', 'transfer', 'channel', 'sab', 'batch', 'direct'];

/** Writes the monotonic clock into slot `k` of a frame (with `stamps`), and passes the frame on. */
const stamper = (on, k) => (on ? (f) => { new DataView(f.buffer, f.byteOffset, f.byteLength).setBigUint64(k * 8, process.hrtime.bigint()); return f; } : (f) => f);

// ---- the thread hop -------------------------------------------------------------------------

const SLOTS = 256;
const SLOT = 4096; // a slot: 4-byte length + up to 4092 bytes of frame

/** One direction of a SharedArrayBuffer ring: ctl[0] frames written, ctl[1] frames read. */
function ring(sab) {
  return { ctl: new Int32Array(sab, 0, 2), data: new Uint8Array(sab, 8), view: new DataView(sab, 8) };
}
const newRingSab = () => new SharedArrayBuffer(8 + SLOTS * SLOT);

function ringWriter(sab) {
  const r = ring(sab);
  return (frame) => {
    const w = r.ctl[0];
    if (w - Atomics.load(r.ctl, 1) >= SLOTS) throw new Error('sab ring full');
    if (frame.length > SLOT - 4) throw new Error('frame too large for a sab slot');
    const off = (w % SLOTS) * SLOT;
    r.view.setUint32(off, frame.length);
    r.data.set(frame, off + 4);
    Atomics.store(r.ctl, 0, w + 1);
    Atomics.notify(r.ctl, 0);
  };
}

function ringReader(sab, onFrame) {
  const r = ring(sab);
  let read = 0;
  const drain = () => {
    for (;;) {
      while (read !== Atomics.load(r.ctl, 0)) {
        const off = (read % SLOTS) * SLOT;
        const len = r.view.getUint32(off);
        const frame = Buffer.from(r.data.subarray(off + 4, off + 4 + len)); // a copy, as a message is
        read++;
        Atomics.store(r.ctl, 1, read);
        onFrame(frame);
      }
      const w = Atomics.waitAsync(r.ctl, 0, read);
      if (w.async) { w.value.then(drain); return; }
      // 'not-equal': a frame arrived meanwhile; read it now.
    }
  };
  drain();
}

/**
 * A link over the hop `mode`: `send(frame)`, and `onFrame` for each frame from the other side.
 * `port` is the Worker (from the main thread), parentPort (in a worker) or a MessagePort; for
 * 'sab', `rings` are { out, in } SharedArrayBuffers.
 */
function link(mode, port, rings, onFrame) {
  if (mode === 'direct') mode = 'port'; // the master's side of 'direct' is the Worker's own port
  if (mode === 'sab') {
    ringReader(rings.in, onFrame);
    return ringWriter(rings.out);
  }
  if (mode === 'batch') {
    port.on('message', (m) => { for (const f of m) onFrame(f); });
    let pending = null;
    return (frame) => {
      if (pending) { pending.push(frame); return; }
      pending = [frame];
      queueMicrotask(() => { const p = pending; pending = null; port.postMessage(p); });
    };
  }
  port.on('message', onFrame);
  if (mode === 'transfer') {
    return (frame) => {
      const f = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : new Uint8Array(frame);
      port.postMessage(f, [f.buffer]);
    };
  }
  return (frame) => port.postMessage(frame);
}

/** Frames cut from a byte stream (4-byte big-endian length, payload). */
function framer(onFrame) {
  let buf = Buffer.alloc(0);
  return (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      onFrame(buf.subarray(4, 4 + len));
      buf = buf.subarray(4 + len);
    }
  };
}

/** Writes frames to a stream, one write each, or (batch) one write per turn. */
function frameWriter(stream, batch) {
  const framed = (f) => { const b = Buffer.allocUnsafe(4 + f.length); b.writeUInt32BE(f.length, 0); b.set(f, 4); return b; };
  if (!batch) return (f) => stream.write(framed(f));
  let pending = null;
  return (f) => {
    if (pending) { pending.push(framed(f)); return; }
    pending = [framed(f)];
    queueMicrotask(() => { const p = pending; pending = null; stream.write(p.length === 1 ? p[0] : Buffer.concat(p)); });
  };
}

/** The worker side of a hop: its link to its main thread from workerData. */
function workerLink(onFrame) {
  const { mode, port, rings } = workerData;
  return link(mode, mode === 'channel' ? port : parentPort, rings && { in: rings.toWorker, out: rings.toMain }, onFrame);
}

/** Starts `file` as a worker with the hop `mode`; returns the worker and the main side's send. */
function startWorker(file, role, mode, onFrame, extra) {
  const data = { role, mode, ...extra };
  const transferList = [];
  let mainPort;
  if (mode === 'channel') {
    const { port1, port2 } = new MessageChannel();
    data.port = port2;
    transferList.push(port2);
    mainPort = port1;
  }
  if (mode === 'sab') data.rings = { toWorker: newRingSab(), toMain: newRingSab() };
  // execArgv: [], as mitogen-ts's brokers: a tsx-run master's loader flags stay out of the worker.
  const worker = new Worker(file, { workerData: data, transferList, execArgv: [] });
  const send = link(mode, mode === 'channel' ? mainPort : worker, data.rings && { in: data.rings.toMain, out: data.rings.toWorker }, onFrame);
  return { worker, send, mainPort };
}

// ---- the roles --------------------------------------------------------------------------------

if (!isMainThread && workerData && workerData.role === 'master-worker') {
  const { spawn } = require('node:child_process');
  // DESIGN_FLOOR_NODE_ARGS: node flags for the child (bench/profile/rtt-profile.ts profiles it with them).
  const nodeArgs = (process.env.DESIGN_FLOOR_NODE_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, __filename, 'child', workerData.mode, ...(workerData.stamps ? ['stamps'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const toChild = frameWriter(child.stdin, workerData.mode === 'batch');
  const s0 = stamper(workerData.stamps, 0);
  const s4 = stamper(workerData.stamps, 4);
  const toMain = workerLink((f) => toChild(s0(f)));
  child.stdout.on('data', framer((f) => toMain(s4(f))));
  child.stdin.on('error', () => {});
  // Without a sab reader's pending wait to keep it, the child's handle keeps this thread alive.
} else if (!isMainThread && workerData && workerData.role === 'child-worker') {
  const net = require('node:net');
  const input = new net.Socket({ fd: 0, readable: true, writable: false });
  const output = new net.Socket({ fd: 1, readable: false, writable: true });
  const toPipe = frameWriter(output, workerData.mode === 'batch');
  const s1 = stamper(workerData.stamps, 1);
  const s3 = stamper(workerData.stamps, 3);
  const toMain = workerLink((f) => toPipe(s3(f)));
  input.on('data', framer((f) => toMain(s1(f))));
  input.on('end', () => process.exit(0));
} else if (isMainThread && require.main === module && process.argv[2] === 'child') {
  const mode = process.argv[3];
  if (!MODES.includes(mode)) throw new Error(`unknown hop ${mode}`);
  // The child's main thread: every frame is answered with itself ("the call").
  const stamps = process.argv[4] === 'stamps';
  const s2 = stamper(stamps, 2);
  if (mode === 'direct') {
    // Its own stdio, as a plain pipe child: slots 1-3 are stamped in turn on this one thread.
    const net = require('node:net');
    const input = new net.Socket({ fd: 0, readable: true, writable: false });
    const output = new net.Socket({ fd: 1, readable: false, writable: true });
    const toPipe = frameWriter(output, false);
    const s1 = stamper(stamps, 1);
    const s3 = stamper(stamps, 3);
    input.on('data', framer((f) => toPipe(s3(s2(s1(f))))));
    input.on('end', () => process.exit(0));
    return;
  }
  let send;
  ({ send } = startWorker(__filename, 'child-worker', mode, (f) => send(s2(f)), { stamps }));
}

/**
 * The master's side, on the caller's thread: starts the master's worker (which spawns the
 * child) and resolves once one frame has made the round trip. `ping()` sends one 64-byte
 * frame and resolves when it is back; `burst(k)` sends k and resolves when all are back.
 */
async function start(mode, opts = {}) {
  if (!MODES.includes(mode)) throw new Error(`unknown hop ${mode}`);
  let want = 0;
  let got = 0;
  let wake = null;
  let last = null;
  const { worker, send } = startWorker(__filename, 'master-worker', mode, (f) => {
    got++;
    last = f;
    if (wake && got >= want) { const w = wake; wake = null; w(); }
  }, { stamps: !!opts.stamps });
  const frame = Buffer.alloc(64, 1);
  const burst = (k) => new Promise((resolve) => {
    want = got + k;
    wake = resolve;
    // A fresh frame each time: a transferred one is detached after its send.
    for (let i = 0; i < k; i++) send(new Uint8Array(frame));
  });
  const floor = {
    mode,
    ping: () => burst(1),
    /** One round trip with `stamps`: µs per hop, [main→worker, pipe, worker→main, main→worker, pipe, worker→main]. */
    async hops() {
      const t0 = process.hrtime.bigint();
      await burst(1);
      const t1 = process.hrtime.bigint();
      const v = new DataView(last.buffer, last.byteOffset, last.byteLength);
      const t = [t0, ...[0, 1, 2, 3, 4].map((k) => v.getBigUint64(k * 8)), t1];
      return t.slice(1).map((x, i) => Number(x - t[i]) / 1000);
    },
    burst,
    close: () => worker.terminate(),
  };
  await floor.ping();
  return floor;
}

module.exports = { start, MODES };
