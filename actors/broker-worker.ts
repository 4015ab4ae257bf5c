/**
 * The broker worker: one per context, master and children alike. It owns the
 * context's streams (its children's pipes, and in a child its own fds 0 and 1
 * to its parent), runs the RouterActor, starts children (ContextActor),
 * answers module requests (ModuleActor), ADD_ROUTE/DEL_ROUTE, ALLOCATE_ID,
 * CONNECT and SHUTDOWN — all without the main thread, which sees only the
 * frames addressed to it.
 *
 * Main thread <-> broker: raw frames (Uint8Array, transferred) and small event
 * objects on the worker port; control calls through comlink on their own port.
 */
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { buildFrame, decodeBody, encodeBody, readHeader } from '../src/codec.js';
import { batchFrames, isFrameBatch, unbatchFrames } from '../src/frame-batch.js';
import type { Header } from '../src/codec.js';
import { ChannelError, MitogenError, StreamError } from '../src/errors.js';
import {
  ADD_ROUTE, ALLOCATE_ID, BROKER_HANDLE_BASE, CONNECT, DEL_ROUTE, FORWARD_LOG, GET_MODULE, IS_DEAD, SHUTDOWN,
} from '../src/handles.js';
import type { BrokerInit, ConnectResult, ConnectSpec } from '../src/bootstrap-types.js';
import { connectChild } from './context-actor.js';
import { forkThreadCount, startFork } from './fork-actor.js';
import { portStreams } from './port-stream.js';
import type { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type { ChildLike } from './context-actor.js';
import { requireForwarded } from './forwarded-require.js';
import type { Ssh2Loader } from './ssh2-session.js';
import { addRouteBody, delRouteBody, moduleRequestBody } from './control-bodies.js';
import { ModuleActor, parentModuleSource } from './module-actor.js';
import { masterSource } from './master-source-slot.js';
import type { ModulePolicy } from '../src/module-policy.js';
import { DEFAULT_WARNINGS_PER_SECOND } from '../src/log.js';
import type { LogLevel } from '../src/log.js';
import type { ModuleReply, ModuleRequest } from './module-wire.js';
import { IdAllocator } from './id-allocator.js';
import { RouterActor } from './router-actor.js';
import { setMaxUnsentBytes, StreamActor } from './stream-actor.js';
import type { StreamEvents } from './stream-actor.js';
import type { BrokerApi, BrokerEvent, ConnectOutcome } from '../src/thread-protocol.js';


const init = workerData as BrokerInit;
// Main thread <-> broker: the worker's own parent port, or (a fork's broker) a port to its sibling.
const port = init.mainPort ?? parentPort!;
let debug = init.debug;
const children = new Map<StreamActor, ChildLike>();

/**
 * Warnings are mostly about what peers send (forged ids, refused routes): a
 * hostile child could flood the log with them. At most `warnBudget` a second
 * go out (router.maxWarningsPerSecond); the rest are counted and reported in one line.
 */
let warnBudget = DEFAULT_WARNINGS_PER_SECOND;
let warnWindow = 0;
let warnsInWindow = 0;
let suppressedWarns = 0;

function reportSuppressed(): void {
  if (!suppressedWarns) return;
  emit({ t: 'log', level: 'warn', name: init.name, text: `${suppressedWarns} more warnings suppressed in one second (over ${warnBudget} a second: is a peer flooding bad frames?)` });
  suppressedWarns = 0;
}

function log(level: LogLevel, text: string): void {
  if (level === 'debug' && !debug) return;
  if (level === 'warn') {
    const now = Date.now();
    if (now - warnWindow >= 1000) {
      reportSuppressed();
      warnWindow = now;
      warnsInWindow = 0;
    }
    if (++warnsInWindow > warnBudget) {
      if (suppressedWarns++ === 0) setTimeout(reportSuppressed, 1000 - (now - warnWindow)).unref();
      return;
    }
  }
  emit({ t: 'log', level, name: init.name, text });
}

function emit(ev: BrokerEvent): void {
  port.postMessage(ev);
}

// Frames for the main thread produced in one turn (e.g. many frames cut from one
// socket read) cross in one postMessage.
const toMainBox: Uint8Array[] = [];
function flushToMain(): void {
  const frames = toMainBox.splice(0);
  if (!frames.length) return;
  const { msg, transfer } = batchFrames(frames);
  port.postMessage(msg, transfer);
}

const router = new RouterActor({
  myId: init.contextId,
  parentIds: init.parentIds,
  maxMessageSize: init.maxMessageSize,
  unidirectional: init.unidirectional,
  toMain(frame) {
    // A frame cut from a socket read shares that read's buffer, which Node never reuses: batchFrames copies or moves it.
    toMainBox.push(frame);
    if (toMainBox.length === 1) queueMicrotask(flushToMain);
  },
  toBroker: onBrokerFrame,
  onRoutesChanged(ev) {
    if (ev.type === 'add') emit({ t: 'route-add', id: ev.id, name: ev.name });
    else emit(ev.why === undefined ? { t: 'route-del', ids: ev.ids } : { t: 'route-del', ids: ev.ids, why: ev.why });
  },
  log,
});

/** A frame from a peer must never throw into the stream's reader: that would take the broker down. */
function routeSafely(frame: Uint8Array, h: Header, from: StreamActor | null): void {
  try {
    router.route(frame, h, from);
  } catch (e) {
    log('error', `dropping message from ${from?.name ?? 'this context'} for ${h.dstId} handle ${h.handle}: ${(e as Error)?.stack ?? e}`);
  }
}

/**
 * The module each child stream was last sent and has said nothing since: if
 * it disconnects now, the import of that module is what broke, and the
 * callers' errors say so (a cut mid-burst otherwise reads as a bare disconnect).
 */
const importing = new Map<StreamActor, string>();

const streamEvents: StreamEvents = {
  frame: (frame, h, stream) => {
    if (importing.size !== 0) importing.delete(stream);
    routeSafely(frame, h, stream);
  },
  oversize: (h, stream) => {
    log('error', `${stream.name} sent a frame of ${h.length} bytes, over maxMessageSize ${router.maxMessageSize}`);
    routeSafely(new Uint8Array(0), h, stream);
  },
  closed: (stream, reason) => {
    if (stream === router.parent) {
      log('debug', `parent stream closed (${reason}): shutting down`);
      void shutdown(`parent disconnected: ${reason}`);
      return;
    }
    // An ordinary end is debug news; corruption or an IO error is worth seeing by default.
    const ordinary = reason === 'EOF on stream' || reason === 'stream closed' || reason.startsWith('the fork');
    const module = importing.get(stream);
    importing.delete(stream);
    const why = stream.booting ? `before its runtime started (${reason})`
      : module === undefined ? undefined : `while importing ${module} (the last module it asked for; it sent nothing after)`;
    log(ordinary ? 'debug' : 'error', stream.booting ? `${stream.name} disconnected ${why}` : `${stream.name} disconnected${why ? ` ${why}` : ''}: ${reason}`);
    router.onChildClosed(stream, why);
    failRequestsVia(stream, why);
  },
};

// ------------------------------------------------------------ requests we make

let nextHandle = BROKER_HANDLE_BASE;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; dstId: number }>();

function request(dstId: number, handle: number, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const replyTo = nextHandle++;
    pending.set(replyTo, { resolve, reject, dstId });
    const frame = buildFrame({ dstId, srcId: router.myId, authId: router.myId, handle, replyTo }, encodeBody(body));
    router.send(frame, readHeader(frame));
  });
}

function failRequestsVia(stream: StreamActor, why?: string): void {
  for (const [h, p] of pending) {
    if (router.streamFor(p.dstId) === stream || stream.remoteId === p.dstId) {
      pending.delete(h);
      p.reject(new ChannelError(`context ${p.dstId} disconnected${why ? ` ${why}` : ''}`));
    }
  }
}

function reply(h: Header, body: unknown): void {
  if (!h.replyTo || h.replyTo === IS_DEAD) return;
  const frame = buildFrame({ dstId: h.srcId, srcId: router.myId, authId: router.myId, handle: h.replyTo, replyTo: 0 }, encodeBody(body));
  router.send(frame, readHeader(frame));
}

// ------------------------------------------------------------ broker handles

function onBrokerFrame(frame: Uint8Array, h: Header, from: StreamActor | null): void {
  const body = frame.subarray(26);
  if (h.handle >= BROKER_HANDLE_BASE) {
    const p = pending.get(h.handle);
    if (!p) {
      log('debug', `no request waits on handle ${h.handle}: dropping message from ${from?.name ?? 'this context'}`);
      return;
    }
    pending.delete(h.handle);
    let v: unknown;
    try { v = decodeBody(body); } catch (e) { p.reject(e as Error); return; }
    if (h.replyTo === IS_DEAD) p.reject(new ChannelError(typeof v === 'string' ? v : ChannelError.remoteMsg));
    else p.resolve(v);
    return;
  }
  if (h.replyTo === IS_DEAD) return;
  const malformed = (what: string, why: string): void => {
    log('warn', `malformed ${what} from ${from?.name ?? 'this context'} (context ${h.srcId}): ${why}; dropped`);
  };
  switch (h.handle) {
    case ADD_ROUTE: {
      const b = addRouteBody(body);
      if (!b.ok) { malformed('ADD_ROUTE', b.why); return; }
      router.onAddRoute(from, h, b.value[0], b.value[1]);
      return;
    }
    case DEL_ROUTE: {
      const b = delRouteBody(body);
      if (!b.ok) { malformed('DEL_ROUTE', b.why); return; }
      if (from && from === router.parent) {
        // Only an ancestor may say a context is gone; a sibling's frame also arrives on the parent stream.
        if (router.hasParentAuthority(h.authId)) router.onParentDelRoute(b.value.id, b.value.why);
        else log('warn', `refusing DEL_ROUTE(${b.value.id}) from context ${h.authId}: no parent authority`);
      } else router.onDelRoute(from, h, b.value.id, b.value.why);
      return;
    }
    case GET_MODULE: {
      const b = moduleRequestBody(body);
      if (!b.ok) {
        malformed('GET_MODULE', b.why);
        reply(h, { error: `malformed GET_MODULE request: ${b.why}`, code: 'ERR_MODULE_FORWARDING' } satisfies ModuleReply);
        return;
      }
      void modules.serve(b.value, { key: from ?? modules, remote: true }).then((r) => {
        if (debug) log('debug', `GET_MODULE ${b.value.kind} ${b.value.spec} from ${b.value.parent} for ${from?.name ?? 'this context'}: ${'error' in r ? r.code : `${r.url}${r.preload ? ' with a preload' : ''}`}`);
        // Refusals are the policy at work: worth a line naming who asked.
        if ('code' in r && r.code === 'ERR_MODULE_REFUSED') log('warn', `refused module ${b.value.spec} to ${from?.name ?? 'this context'} (context ${h.srcId}): ${r.error}`);
        else if (from && from !== router.parent && !from.isClosed) importing.set(from, JSON.stringify(b.value.spec));
        reply(h, r);
      });
      return;
    }
    case ALLOCATE_ID: {
      if (!init.isMaster) { reply(h, [0, 0]); return; }
      const l = ids.lease(from ?? ids, from?.name ?? 'this context');
      if (!l.ok) log('warn', `refusing ALLOCATE_ID from context ${h.srcId}: ${l.why}`);
      reply(h, l.ok ? [l.start, l.count] : [0, 0, l.why]);
      return;
    }
    case CONNECT: {
      if (!router.hasParentAuthority(h.authId)) {
        log('warn', `refusing CONNECT from context ${h.authId}: no parent authority`);
        reply(h, [false, new MitogenError(`CONNECT refused: context ${h.authId} has no authority over ${router.myId}`)]);
        return;
      }
      let spec: ConnectSpec;
      try { spec = decodeBody(body) as ConnectSpec; } catch (e) { reply(h, [false, e]); return; }
      // A parent's connect through us resolves once the child has started: its
      // callers' deadlines then never include the child's own start.
      void connect(spec, true).then(
        (r) => reply(h, [true, r]),
        (e: Error) => reply(h, [false, e]),
      );
      return;
    }
    case SHUTDOWN: {
      if (!router.hasParentAuthority(h.authId)) {
        log('warn', `refusing SHUTDOWN from context ${h.authId}: no parent authority`);
        return;
      }
      void shutdown('asked to shut down');
      return;
    }
  }
}

// ------------------------------------------------------------ modules

let modulePolicy: ModulePolicy = { allow: [], deny: [] };
const modules = new ModuleActor(init.isMaster
  ? masterSource({ esbuildPath: init.esbuildPath, moduleBase: init.moduleBase, policy: () => modulePolicy })
  : parentModuleSource((req) => request(init.parentIds[0]!, GET_MODULE, req).catch((e: Error) => {
    throw new ChannelError(`fetching module ${req.spec} (from ${req.parent}) for ${init.name}: ${e.message}`);
  }) as Promise<ModuleReply>));

const syncFlag = new Int32Array(init.syncFlag);

function serveModulePort(p: MessagePort, sync: boolean): void {
  p.on('message', (m: { id: number; req: ModuleRequest }) => {
    void modules.serve(m.req, { key: p, remote: false }).then((r) => {
      p.postMessage({ id: m.id, reply: r });
      if (sync) {
        Atomics.store(syncFlag, 0, 1);
        Atomics.notify(syncFlag, 0);
      }
    });
  });
}
serveModulePort(init.modules, true);

// ------------------------------------------------------------ ids

const ids = new IdAllocator();
let lease: [number, number] = [0, 0];

// ------------------------------------------------------------ lifecycle

let shuttingDown: Promise<void> | undefined;

function shutdown(reason: string): Promise<void> {
  return (shuttingDown ??= (async () => {
    log('debug', `shutting down: ${reason}`);
    await Promise.all([
      ...[...children].map(([stream, child]) => stopChild(stream, child)),
      ...[...forks].map(([stream, worker]) => stopFork(stream, worker)),
    ]);
    for (const p of pending.values()) p.reject(new ChannelError(ChannelError.localMsg));
    pending.clear();
    if (!init.isMaster) {
      emit({ t: 'exit', reason });
      // If the main thread is stuck in user code it cannot exit itself.
      // A fork's host terminates its thread instead (a fork never kills the
      // process): closing the port to the host is the fork's way to ask.
      if (!init.parentPort) setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2000).unref();
      else setTimeout(() => init.parentPort!.close(), 2000).unref();
    }
  })());
}

/** Asks a fork to shut down; its thread is terminated if it does not go. */
function stopFork(stream: StreamActor, worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    worker.once('exit', () => resolve());
    if (!stream.isClosed) {
      stream.write(buildFrame({ dstId: stream.remoteId, srcId: router.myId, authId: router.myId, handle: SHUTDOWN, replyTo: 0 }, encodeBody(null)));
    }
    const t = setTimeout(() => { void worker.terminate(); }, 3000);
    worker.once('exit', () => clearTimeout(t));
  });
}

/** Asks a child to shut down, and makes sure its process is gone. */
function stopChild(stream: StreamActor, child: ChildLike): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    if (!stream.isClosed) {
      stream.write(buildFrame({ dstId: stream.remoteId, srcId: router.myId, authId: router.myId, handle: SHUTDOWN, replyTo: 0 }, encodeBody(null)));
    }
    const t1 = setTimeout(() => child.kill('SIGTERM'), 3000);
    const t2 = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(t1); clearTimeout(t2); });
  });
}

// ------------------------------------------------------------ the API

const forks = new Map<StreamActor, Worker>();

async function connect(spec: ConnectSpec, untilBooted = false): Promise<ConnectResult> {
    if (shuttingDown) throw new StreamError('cannot connect: this context is shutting down');
    // A child is coming that may import: the parser and lexer start while it boots, not on its first import.
    modules.warm();
    if (spec.method === 'fork') {
      const { stream, worker, result } = await startFork(spec, { payload: init.payload, myId: router.myId, parentIds: router.parentIds, streamEvents });
      forks.set(stream, worker);
      worker.once('exit', () => forks.delete(stream));
      router.addChild(stream);
      return result;
    }
    const { stream, child, result, booted } = await connectChild(spec, {
      payload: init.payload,
      myId: router.myId,
      parentIds: router.parentIds,
      streamEvents,
      loadSsh2,
      onStderr(name, line, level = 'info') {
        if (init.isMaster) emit({ t: 'log', level, name, text: line });
        else {
          const frame = buildFrame({ dstId: 0, srcId: router.myId, authId: router.myId, handle: FORWARD_LOG, replyTo: 0 }, encodeBody([name, level, line]));
          router.send(frame, readHeader(frame));
        }
      },
    });
    children.set(stream, child);
    child.once('exit', () => children.delete(stream));
    router.addChild(stream);
    if (untilBooted) {
      await booted;
      const { booting: _, ...done } = result;
      return done;
    }
    if (result.booting) void booted.then(() => emit({ t: 'booted', id: result.contextId }), () => { /* the stream's close says why */ });
    return result;
}

// The ssh2 package, for ssh connections made here with the in-process client:
// the master's installed copy, or (anywhere else) one brought by module forwarding.
let ssh2Module: ReturnType<Ssh2Loader> | undefined;
const loadSsh2: Ssh2Loader = () => (ssh2Module ??= init.isMaster && init.moduleBase
  ? Promise.resolve().then(() => createRequire(init.moduleBase!)('ssh2') as Awaited<ReturnType<Ssh2Loader>>)
  : requireForwarded('ssh2', (req) => modules.serve(req, { key: loadSsh2, remote: false })) as ReturnType<Ssh2Loader>);

const api: BrokerApi = {
  connect: (spec) => connect(spec).then(
    (result): ConnectOutcome => ({ ok: true, result }),
    (e: Error): ConnectOutcome => ({ ok: false, error: encodeBody(e) }),
  ),
  async allocateId() {
    if (init.isMaster) return ids.allocate();
    if (lease[1] === 0) {
      const [start, count, why] = await request(0, ALLOCATE_ID, null) as [number, number, string?];
      if (!count) throw new MitogenError(`the master refused to allocate context ids${why ? `: ${why}` : ''}`);
      lease = [start, count];
    }
    const id = lease[0]++;
    lease[1]--;
    return id;
  },
  shutdown: () => shutdown('shutdown requested by the main thread'),
  setDebug(on) { debug = on; },
  setModulePolicy(p) {
    modulePolicy = p;
    modules.clear();
  },
  setLimits(l) {
    if (l.preloadBytes !== undefined) modules.burstBytes = l.preloadBytes;
    if (l.maxMessageSize !== undefined) router.maxMessageSize = l.maxMessageSize;
    if (l.unidirectional !== undefined) router.unidirectional = l.unidirectional;
    if (l.warnBudget !== undefined) warnBudget = l.warnBudget;
    if (l.maxUnsentBytes !== undefined) setMaxUnsentBytes(l.maxUnsentBytes);
  },
  stats: () => ({ children: router.children.size, forkThreads: forkThreadCount(), moduleHits: modules.hits, moduleMisses: modules.misses, moduleRequests: modules.requests, modulesPreloaded: modules.preloaded, moduleThreadRequests: modules.threadRequests, modulePrefetches: modules.prefetches, modulesPrefetched: modules.prefetched, modulePacks: modules.packs, ...router.sizes }),
  prefetch(call) {
    if (init.isMaster) void modules.prefetch(call).catch(() => { /* the child's own request reports it */ });
  },
  prefetchesSettled: () => modules.prefetchesSettled(),
  warmModule(req) {
    void modules.serve(req, { key: modules, remote: false }).catch(() => { /* the thread's own request reports it */ });
  },
  addModulePort(p) { serveModulePort(p, false); },
};

Comlink.expose(api, nodeEndpoint(init.control as unknown as Parameters<typeof nodeEndpoint>[0]));

// Frames from this context's main thread.
function fromMain(frame: Uint8Array): void {
  let h: Header;
  try { h = readHeader(frame); } catch (e) { log('error', (e as Error).message); return; }
  routeSafely(frame, h, null);
}

port.on('message', (data: unknown) => {
  if (isFrameBatch(data)) unbatchFrames(data, fromMain);
});

// ------------------------------------------------------------ a child's own fds

// A fork's broker (an instance in its host's broker thread) ends with the fork's main thread.
if (init.mainPort) {
  init.mainPort.on('close', () => { void shutdown('the fork\'s main thread ended').then(() => init.parentPort?.close()); });
}

if (init.parentPort) {
  const { input, output } = portStreams(init.parentPort);
  output.write(Buffer.from('MITO002\n'));
  router.parent = new StreamActor(input, output, {
    remoteId: init.parentIds[0]!, name: 'parent', maxMessageSize: init.maxMessageSize,
  }, streamEvents);
} else if (init.parentFds) {
  const input = new net.Socket({ fd: init.parentFds.in, readable: true, writable: false });
  const output = new net.Socket({ fd: init.parentFds.out, readable: false, writable: true });
  output.write('MITO002\n');
  router.parent = new StreamActor(input, output, {
    remoteId: init.parentIds[0]!, name: 'parent', maxMessageSize: init.maxMessageSize,
  }, streamEvents);
}
