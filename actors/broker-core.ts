/**
 * A context's broker: one per context, master and children alike. It owns
 * the context's streams (its children's pipes, and in a child its own fds 0
 * and 1 to its parent), runs the RouterActor, starts children (ContextActor)
 * and forks (ForkActor), answers module requests (ModuleActor), ADD_ROUTE,
 * DEL_ROUTE, ALLOCATE_ID, CONNECT and SHUTDOWN — all without the main thread,
 * which sees only the frames addressed to it.
 *
 * All its state is its own: a broker worker holds one, and a host's broker
 * thread holds its own and one per fork it started.
 *
 * Main thread <-> broker: raw frames (Uint8Array, transferred) and small event
 * objects on `link`; control calls through comlink on their own port.
 */
import type { MessagePort } from 'node:worker_threads';
import { readHeader } from '../src/wire/codec.js';
import type { Header } from '../src/wire/codec.js';
import { StreamError } from '../src/wire/errors.js';
import type { Script } from 'node:vm';
import { CODE_CACHE, DEFAULT_MAX_UNSENT_BYTES, FORWARD_LOG } from '../src/wire/handles.js';
import type { BootstrapSpec, BrokerInit, ConnectResult, ConnectSpec, ForkSpec } from '../src/threads/bootstrap-types.js';
import { scheduleCodeCacheReport } from '../src/threads/code-cache-report.js';
import { CodeCaches } from './code-cache.js';
import { exposeBrokerApi } from './broker-api.js';
import { BrokerLog } from './broker-log.js';
import type { BrokerParts } from './broker-parts.js';
import { connectChild } from './bootstrap/context-actor.js';
import type { ConnectDeps } from './bootstrap/context-actor.js';
import { ContextIds } from './context-ids.js';
import { answerControl } from './control-handles.js';
import { startFork } from './fork-actor.js';
import { MainThreadLink } from './main-thread-link.js';
import { ModuleServing } from './module-serving.js';
import type { MasterSourceFactory } from './module-serving.js';
import { openCommand } from './openers/command.js';
import type { Open } from './openers/opener.js';
import { openSsh2 } from './openers/ssh2.js';
import { openParentStream } from './parent-stream.js';
import { PendingRequests } from './pending-requests.js';
import { RouterActor } from './router-actor.js';
import { ssh2Loader } from './ssh2/ssh2-loader.js';
import { StartedContexts } from './started-contexts.js';
import type { StreamActor, StreamEvents, StreamShared } from './stream-actor.js';
import type { Ssh2Loader } from './ssh2/ssh2-session.js';

/** A child or fork started, whichever way: its stream, what connect answers, and when its broker runs. */
interface Started {
  stream: StreamActor;
  result: ConnectResult;
  /** Settles when the child's broker has started (MITO002), or rejects with why it did not. */
  booted: Promise<void>;
}

export interface BrokerOptions {
  /** The master's module source (only the master's broker entry has it): reads the master's own files. */
  moduleSource?: MasterSourceFactory;
}

export class BrokerCore implements BrokerParts {
  readonly #main: MainThreadLink;
  readonly log: BrokerLog;
  readonly router: RouterActor;
  readonly requests: PendingRequests;
  readonly modules: ModuleServing;
  readonly ids: ContextIds;
  readonly started: StartedContexts;
  readonly codeCaches: CodeCaches;
  readonly streamShared: StreamShared;
  readonly importing = new Map<StreamActor, string>();
  readonly #loadSsh2: Ssh2Loader;
  #shuttingDown?: Promise<void>;

  /** `link`: the port to this context's main thread (a worker's parent port; for a fork's broker, `init.mainPort`). */
  constructor(readonly init: BrokerInit, link: MessagePort, options: BrokerOptions = {}) {
    this.#main = new MainThreadLink(link);
    this.streamShared = { maxUnsentBytes: DEFAULT_MAX_UNSENT_BYTES, recycler: this.#main.recycler };
    this.log = new BrokerLog(init.name, init.debug, (ev) => this.#main.emit(ev));
    const main = this.#main;
    this.router = new RouterActor({
      myId: init.contextId,
      parentIds: init.parentIds,
      maxMessageSize: init.maxMessageSize,
      unidirectional: init.unidirectional,
      toMain: (frame) => main.send(frame),
      toBroker: (frame, h, from) => answerControl(this, frame, h, from),
      onRoutesChanged(ev) {
        if (ev.type === 'add') main.emit({ t: 'route-add', id: ev.id, name: ev.name });
        else main.emit(ev.why === undefined ? { t: 'route-del', ids: ev.ids } : { t: 'route-del', ids: ev.ids, why: ev.why });
      },
      log: this.log.line,
    });
    this.requests = new PendingRequests(this.router);
    this.modules = new ModuleServing(init, this.requests, options.moduleSource);
    this.ids = new ContextIds(init.role === 'master', this.requests);
    this.started = new StartedContexts(init.contextId);
    this.codeCaches = new CodeCaches(init.payload);
    this.#loadSsh2 = ssh2Loader(init, this.modules.actor);
    exposeBrokerApi(this, init.control);
    main.onFrame((frame) => {
      let h: Header;
      try { h = readHeader(frame); } catch (e) { this.log.line('error', (e as Error).message); return; }
      this.#routeSafely(frame, h, null);
    });
    // A fork's broker ends with the fork's main thread.
    if (init.role === 'fork') init.mainPort.on('close', () => { void this.shutdown('the fork\'s main thread ended').then(() => init.parentPort.close()); });
    this.router.parent = openParentStream(init, this.streamShared, this.#streamEvents);
  }

  /**
   * Tells the parent's broker what V8 made of this broker bundle's cache, with
   * a fresh cache if it asked for one or sent one that was not taken (after a while: what ran is then compiled in it).
   */
  reportCodeCache(script: Script): void {
    const { init } = this;
    if (init.role !== 'child' || !init.codeCache) return;
    scheduleCodeCacheReport('broker', script, { ...init.codeCache, maxMessageSize: () => this.router.maxMessageSize },
      (report) => this.router.post(init.parentIds[0]!, CODE_CACHE, report), () => this.#shuttingDown !== undefined);
  }

  /** A frame from a peer must never throw into the stream's reader: that would take the broker down. */
  #routeSafely(frame: Uint8Array, h: Header, from: StreamActor | null): void {
    try {
      this.router.route(frame, h, from);
    } catch (e) {
      this.log.line('error', `dropping message from ${from?.name ?? 'this context'} for ${h.dstId} handle ${h.handle}: ${(e as Error)?.stack ?? e}`);
    }
  }

  readonly #streamEvents: StreamEvents = {
    frame: (frame, h, stream) => {
      if (this.importing.size !== 0) this.importing.delete(stream);
      this.#routeSafely(frame, h, stream);
    },
    oversize: (h, stream) => {
      this.log.line('error', `${stream.name} sent a frame of ${h.length} bytes, over maxMessageSize ${this.router.maxMessageSize}`);
      this.#routeSafely(new Uint8Array(0), h, stream);
    },
    closed: (stream, reason) => {
      if (stream === this.router.parent) {
        this.log.line('debug', `parent stream closed (${reason}): shutting down`);
        void this.shutdown(`parent disconnected: ${reason}`);
        return;
      }
      // An ordinary end is debug news; corruption or an IO error is worth seeing by default.
      const ordinary = reason === 'EOF on stream' || reason === 'stream closed' || reason.startsWith('the fork');
      const module = this.importing.get(stream);
      this.importing.delete(stream);
      const why = stream.booting ? `before its runtime started (${reason})`
        : module === undefined ? undefined : `while importing ${module} (the last module it asked for; it sent nothing after)`;
      this.log.line(ordinary ? 'debug' : 'error', stream.booting ? `${stream.name} disconnected ${why}` : `${stream.name} disconnected${why ? ` ${why}` : ''}: ${reason}`);
      this.router.onChildClosed(stream, why);
      this.requests.failVia(stream, why);
    },
  };

  async connect(spec: ConnectSpec, untilBooted = false): Promise<ConnectResult> {
    if (this.#shuttingDown) throw new StreamError('cannot connect: this context is shutting down');
    // A child is coming that may import: the parser and lexer start while it boots, not on its first import.
    this.modules.actor.warm();
    const { stream, result, booted } = await this.#start(spec);
    this.router.addChild(stream);
    // Routed from here on: what the child sent with its boot markers may now be cut into frames.
    stream.ungate();
    if (untilBooted) {
      await booted;
      const { booting: _, ...done } = result;
      return done;
    }
    if (result.booting) void booted.then(() => this.#main.emit({ t: 'booted', id: result.contextId }), () => { /* the stream's close says why */ });
    return result;
  }

  /**
   * How a child starts, by its spec's kind: every way is here. A command
   * (spawned with pipes, or on a PTY of ours when it logs in on one) and an
   * in-process ssh session are opened and carried through the byte
   * bootstrap; a fork skips it (the runtime is handed to a worker thread,
   * its broker a BrokerCore in this thread), which is what makes it fast.
   */
  #start(spec: ConnectSpec): Promise<Started> {
    switch (spec.kind) {
      case 'spawn': return this.#bootstrap(spec, () => openCommand(spec));
      case 'ssh2': return this.#bootstrap(spec, (onDebug) => openSsh2(spec, this.#loadSsh2, onDebug));
      case 'fork': return this.#fork(spec);
      default: {
        const unknown: never = spec;
        throw new StreamError(`cannot connect: unknown kind ${JSON.stringify((unknown as { kind: unknown }).kind)}`);
      }
    }
  }

  /** What a child or fork is given of this context, however it starts. */
  #parent(): Omit<ConnectDeps, 'onStderr'> {
    const { init, router } = this;
    return { payload: init.payload, myId: router.myId, parentIds: router.parentIds, streamEvents: this.#streamEvents, streamShared: this.streamShared };
  }

  async #bootstrap(spec: BootstrapSpec, open: Open): Promise<Started> {
    const { init, router } = this;
    const main = this.#main;
    const connected = await connectChild(spec, {
      ...this.#parent(),
      codeCache: () => this.codeCaches.offer(spec),
      onStderr(name, line, level = 'info') {
        if (init.role === 'master') main.emit({ t: 'log', level, name, text: line });
        else router.post(0, FORWARD_LOG, [name, level, line]);
      },
    }, open);
    this.started.addChild(connected.stream, connected.child);
    this.codeCaches.bind(connected.stream, spec);
    return connected;
  }

  async #fork(spec: ForkSpec): Promise<Started> {
    const { stream, worker, result } = await startFork(spec, {
      ...this.#parent(),
      startBroker(forkInit) { new BrokerCore(forkInit, forkInit.mainPort); },
      threads: this.started,
    });
    this.started.addFork(stream, worker);
    // Its broker announced itself (MITO002) before startFork resolved: it has booted.
    return { stream, result, booted: Promise.resolve() };
  }

  shutdown(reason: string): Promise<void> {
    return (this.#shuttingDown ??= (async () => {
      const { init } = this;
      this.log.line('debug', `shutting down: ${reason}`);
      await this.started.stopAll();
      this.requests.failAll();
      if (init.role === 'master') return;
      this.#main.emit({ t: 'exit', reason });
      // If the main thread is stuck in user code it cannot exit itself.
      // A fork's host terminates its thread instead (a fork never kills the
      // process): closing the port to the host is the fork's way to ask.
      if (init.role === 'child') setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2000).unref();
      else setTimeout(() => init.parentPort.close(), 2000).unref();
    })());
  }
}
