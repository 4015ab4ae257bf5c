/**
 * Router: a context's main-thread half. It sends messages through its broker
 * and hands what arrives to its handle table, follows the broker's events
 * (routes added and gone, children started, log records), starts contexts
 * and shuts down. The routing table itself lives in the broker's
 * RouterActor. Its parts, each in a file of its own:
 *   handle-table.ts     who takes a message addressed to this context
 *   context-table.ts    the contexts it knows: gone, or still starting
 *   router-limits.ts    the limits its broker enforces, pushed there
 *   connect-methods.ts  local(), ssh(), sudo(), docker()...: each one's transport
 *   connect-spec.ts     what a connect asks the broker to start
 *   connect-via.ts      starting a context through another
 *   log-printer.ts      the master printing what its contexts forward
 */
import { Observable, Subject } from 'rxjs';
import type { BrokerEvent } from '../threads/thread-protocol.js';
import { Broker } from './broker.js';
import { checkTimeout } from './call-deadline.js';
import { readHeader } from '../wire/codec.js';
import type { CodecContext } from '../wire/codec.js';
import type { Context } from './context.js';
import { ContextTable } from './context-table.js';
import { ConnectMethods } from '../connect/connect-methods.js';
import { connectSpec } from '../connect/connect-spec.js';
import type { ConnectOptions } from '../connect/connect-spec.js';
import { connectVia } from '../connect/connect-via.js';
import type { LocalOptions } from '../../transports/local.js';
import type { AnyTransport } from '../../transports/transport.js';
import type { ContextView, HandlerOptions, RouterView } from './context-view.js';
import { MitogenError } from '../wire/errors.js';
import { FORWARD_LOG } from '../wire/handles.js';
import { HandleTable } from './handle-table.js';
import { printForwardedLogs } from './log-printer.js';
import { RouterLimits } from './router-limits.js';
import { emitLog, isDebugEnabled, log, onDebugChange } from './log.js';
import type { LogLevel } from './log.js';
import { Message } from '../wire/message.js';
import { Sender } from '../channels/sender.js';
import { DEFAULT_WINDOW } from '../features/flow-window.js';
import type { FlowWindow } from '../features/flow-window.js';
import type { TraceRecord } from '../threads/thread-protocol.js';
import type { CallToCome } from '../modules/module-wire.js';
import type { ModulePolicy } from '../modules/module-policy.js';

export { DEFAULT_MAX_MESSAGE_SIZE } from './router-limits.js';
export { PROFILE_DIR, defaultRemoteName } from '../connect/connect-spec.js';
export type { ConnectOptions } from '../connect/connect-spec.js';
export type { TraceRecord } from '../threads/thread-protocol.js';


export interface RouterEvent {
  type: 'connect' | 'disconnect' | 'shutdown';
  context?: Context;
}

export interface RouterInternals {
  contextId: number;
  parentIds: number[];
  name: string;
  /** The mode the parent started this context in (its broker already routes so). */
  unidirectional?: boolean;
}

export class Router extends ConnectMethods implements RouterView<Context> {
  readonly broker: Broker;
  readonly myId: number;
  readonly parentIds: number[];
  readonly name: string;
  readonly codecContext: CodecContext;
  private readonly handles = new HandleTable(this);
  private readonly contexts = new ContextTable(this);
  private readonly events$ = new Subject<RouterEvent>();
  /** Credit window of ctx.observe() subscriptions made through this router. */
  observeWindow: FlowWindow = { ...DEFAULT_WINDOW };
  private readonly limits: RouterLimits;
  private shutdownPromise?: Promise<void>;
  private readonly stopDebugWatch: () => void;

  /** Observable of connect, disconnect and shutdown events. */
  readonly events: Observable<RouterEvent> = this.events$.asObservable();

  constructor(broker?: Broker, internals?: RouterInternals) {
    super();
    this.broker = broker ?? new Broker();
    this.myId = internals?.contextId ?? 0;
    this.parentIds = internals?.parentIds ?? [];
    this.name = internals?.name ?? 'master';
    this.limits = new RouterLimits(this.broker, this.name, internals?.unidirectional ?? false);
    const router = this;
    this.codecContext = {
      context: (id, name) => router.contextRef(id, name),
      sender: (id, handle) => new Sender(router.contextRef(id), handle),
    };
    this.broker.onFrame((frame) => this.onFrame(frame));
    this.broker.onEvent((ev) => this.onBrokerEvent(ev));
    this.broker.onExit(() => this.onBrokerExit());
    if (this.myId === 0) printForwardedLogs(this);
    this.stopDebugWatch = onDebugChange((on) => this.limits.setDebug(on));
    if (isDebugEnabled()) this.limits.setDebug(true);
  }

  // ---------------------------------------------------------------- identity

  /** This context. */
  myself(): Context {
    return this.contextFor(this.myId, this.name);
  }

  contextById(id: number): Context | undefined {
    return this.contexts.get(id);
  }

  /** @internal The one Context object for an id (made on first sight). */
  contextFor(id: number, name?: string): Context {
    return this.contexts.obtain(id, name);
  }

  /** @internal A Context named in a message body: not kept unless known (see ContextTable.ref). */
  contextRef(id: number, name?: string): Context {
    return this.contexts.ref(id, name);
  }

  /** True when `authId` is this context or one of its ancestors. */
  hasParentAuthority(authId: number): boolean {
    return authId === this.myId || this.parentIds.includes(authId);
  }

  isDisconnected(id: number): boolean {
    return this.contexts.isGone(id);
  }

  // ---------------------------------------------------------------- limits

  get maxMessageSize(): number { return this.limits.maxMessageSize; }
  set maxMessageSize(n: number) { this.limits.set('maxMessageSize', n); }

  /**
   * Warnings this context's broker logs per second, at most (default 1,000):
   * most are about bad frames from peers, which a hostile child could send by
   * the million; the excess is counted in one line. Infinity logs them all.
   */
  get maxWarningsPerSecond(): number { return this.limits.warnBudget; }
  set maxWarningsPerSecond(n: number) { this.limits.set('warnBudget', n); }

  /**
   * Whether a V8 code cache one target sent back may be given to the boot of
   * another (default false: only to later boots of the same target — same
   * method, host, user and interpreter, through this same context — or one
   * this context's broker compiled itself for a child running its own Node).
   * V8 does not check cached bytecode against its source, so a cache is code:
   * shared, one compromised target could run its code in every context booted
   * after it, a root sudo context included. On, a fleet of same-version hosts
   * compiles the runtime once. A child uses a cache only if it was made for its
   * own Node version, arch and flags.
   */
  get shareCodeCache(): boolean { return this.limits.shareCodeCache; }
  set shareCodeCache(on: boolean) { this.limits.set('shareCodeCache', on); }

  /**
   * Bytes that may wait unsent on any one of this context's streams (default
   * 1 GiB). A child that stops reading (SIGSTOP, a wedged host) is
   * disconnected past it, its callers getting ChannelError, rather than this
   * process buffering what is sent to it until memory runs out.
   */
  get maxUnsentBytes(): number { return this.limits.maxUnsentBytes; }
  set maxUnsentBytes(n: number) {
    if (!(n > 0)) throw new RangeError(`maxUnsentBytes must be a positive number of bytes, not ${n}`);
    this.limits.set('maxUnsentBytes', n);
  }

  /**
   * Source bytes (before compression) one module-forwarding reply may carry
   * to a child: the module asked for and what of its static closure the
   * child was not sent yet (default 16 MiB). What is over it is asked for
   * when it is imported.
   */
  get preloadBytes(): number { return this.limits.preloadBytes; }
  set preloadBytes(n: number) {
    if (!(n >= 0)) throw new RangeError(`preloadBytes must be a number of bytes >= 0, not ${n}`);
    this.limits.set('preloadBytes', n);
  }

  /** When true, children may not send messages to each other through this context. */
  get unidirectional(): boolean { return this.limits.unidirectional; }
  set unidirectional(on: boolean) { this.limits.set('unidirectional', on); }

  /**
   * Restricts what the master serves to children by module forwarding
   * (Mitogen's whitelist_prefix): package names or path prefixes. Once any
   * is allowed, nothing else is served. Master only.
   */
  allowModules(...rules: string[]): Promise<void> {
    this.policy.allow.push(...rules);
    return this.pushPolicy();
  }

  /** Never serves these packages or paths to children (Mitogen's blacklist_prefix). Master only. */
  denyModules(...rules: string[]): Promise<void> {
    this.policy.deny.push(...rules);
    return this.pushPolicy();
  }

  private readonly policy: ModulePolicy = { allow: [], deny: [] };
  private pushPolicy(): Promise<void> {
    if (this.myId !== 0) return Promise.reject(new MitogenError('module policy is the master\'s: only its responder serves files'));
    return this.broker.control((api) => api.setModulePolicy({ allow: [...this.policy.allow], deny: [...this.policy.deny] }));
  }

  // ---------------------------------------------------------------- calls

  /**
   * Seconds every ctx.call (and callWith without its own) through this router
   * may wait for its result before rejecting with TimeoutError; undefined
   * (the default) waits for ever. For fleet scripts: one wedged host must not
   * hold up the run.
   */
  get callTimeout(): number | undefined { return this.defaultCallTimeout; }
  set callTimeout(seconds: number | undefined) {
    this.defaultCallTimeout = checkTimeout(seconds, 'callTimeout');
  }

  private defaultCallTimeout?: number;

  /** Replies that arrived after their call was given up on (timed out or cancelled), and went nowhere. */
  get lateRepliesDropped(): number { return this.lateReplies; }

  /** @internal */
  noteLateReply(): void { this.lateReplies++; }

  private lateReplies = 0;

  // ---------------------------------------------------------------- handlers

  addHandler(fn: (msg: Message) => void, opts: HandlerOptions = {}): number {
    const handle = this.handles.add(fn, opts);
    if (this.brokerGone) {
      // Nothing can arrive any more: answer at once rather than never.
      queueMicrotask(() => this.handles.drain(Router.brokerExitMsg));
    } else if (opts.respondent && this.contexts.isGone(opts.respondent.contextId)) {
      // Asking a dead context: answer at once rather than never.
      queueMicrotask(() => this.deliver(this.deadFor(opts.respondent!, handle)));
    }
    return handle;
  }

  delHandler(handle: number): void {
    this.handles.delete(handle);
  }

  // ---------------------------------------------------------------- sending

  /** Sends a message from this context. */
  route(msg: Message): void {
    msg.srcId = this.myId;
    msg.authId = this.myId;
    if (msg.data.byteLength > this.limits.maxMessageSize) {
      this.refuseOversize(msg);
      return;
    }
    if (msg.dstId === this.myId) {
      msg.router = this;
      queueMicrotask(() => this.deliver(msg));
      return;
    }
    if (this.broker.isShutdown) {
      if (msg.replyTo && !msg.isDead) {
        const dead = Message.dead('the router has shut down', { dstId: this.myId, handle: msg.replyTo });
        dead.router = this;
        queueMicrotask(() => this.deliver(dead));
      }
      return;
    }
    this.broker.send(msg.toFrame());
  }

  private refuseOversize(msg: Message): void {
    const reason = `message too large: ${msg.data.byteLength} bytes exceeds maxMessageSize ${this.limits.maxMessageSize} bytes (max ${this.limits.maxMessageSize} bytes)`;
    log('error', `refusing to send ${msg}: ${reason}`);
    if (msg.replyTo && !msg.isDead) {
      const dead = Message.dead(reason, { dstId: this.myId, srcId: this.myId, handle: msg.replyTo });
      dead.router = this;
      queueMicrotask(() => this.deliver(dead));
    } else if (!msg.isDead) {
      // An oversized reply: tell whoever waits for it, so nothing hangs.
      this.route(Message.dead(reason, { dstId: msg.dstId, handle: msg.handle }));
    }
  }

  // ---------------------------------------------------------------- receiving

  private onFrame(frame: Uint8Array): void {
    const h = readHeader(frame);
    const msg = Message.fromFrame(frame, h);
    msg.router = this;
    this.deliver(msg);
  }

  /** @internal For tests: sees every message this router receives, before its handler is looked up. */
  onReceive?: (msg: Message) => void;

  private deliver(msg: Message): void {
    this.onReceive?.(msg);
    this.handles.inbox.post(msg);
  }

  /** @internal Every message delivered on this thread's handle table while subscribed (for Context.messages$). */
  get delivered$(): Observable<Message> {
    return this.handles.inbox.messages$;
  }

  /**
   * Every message delivered on this thread's handle table from the moment of
   * subscribing (replies, channel messages, dead messages; not what the broker
   * answers or forwards itself), as a small record. Made only while
   * subscribed: unobserved, delivery is a plain call.
   */
  get trace$(): Observable<TraceRecord> {
    // new Observable rather than rxjs operators: each operator shipped grows every child's runtime.
    return new Observable<TraceRecord>((sub) => this.delivered$.subscribe({
      next: (m) => sub.next({ handle: m.handle, srcId: m.srcId, dstId: m.dstId, size: m.data.byteLength, isDead: m.isDead }),
      complete: () => sub.complete(),
    }));
  }

  /**
   * Every frame this context's broker routes — to this thread, to the
   * broker's own handles, or onward between other contexts (traffic this
   * thread never sees otherwise) — from the moment the broker has taken the
   * request (control calls are served in order: one made after subscribing
   * returns after it). While subscribed, each frame costs the broker one
   * postMessage to this thread; unsubscribed, nothing.
   */
  get routed$(): Observable<TraceRecord> {
    return this.broker.routed$();
  }

  /** @internal For tests: true while trace$ or a context's messages$ is subscribed (only then is a Subject alive). */
  get isTraced(): boolean { return this.handles.inbox.observed; }

  private deadFor(ctx: ContextView, handle: number, why?: string): Message {
    const m = Message.dead(`the respondent context ${ctx.name} (id ${ctx.contextId}) has disconnected${why ? ` ${why}` : ''}`, { dstId: this.myId, srcId: ctx.contextId, handle });
    m.router = this;
    return m;
  }

  private onBrokerEvent(ev: BrokerEvent): void {
    switch (ev.t) {
      case 'route-add':
        this.contexts.routed(ev.id, ev.name);
        return;
      case 'route-del':
        for (const id of ev.ids) this.onDisconnect(id, ev.why);
        return;
      case 'booted':
        this.contexts.started(ev.id);
        return;
      case 'log':
        if (this.myId === 0) emitLog({ name: ev.name, level: ev.level, text: ev.text });
        else this.forwardLog(ev.name, ev.level, ev.text);
        return;
      case 'exit':
        this.exitHook?.(ev.reason);
        return;
    }
  }

  /** @internal Set by a child's runtime: what to do when the broker says exit. */
  exitHook?: (reason: string) => void;

  /** @internal Sends a log record to the master. */
  forwardLog(name: string, level: LogLevel, text: string): void {
    if (this.broker.isShutdown) return;
    this.route(Message.encoded([name, level, text], { dstId: 0, handle: FORWARD_LOG }));
  }

  private onDisconnect(id: number, why?: string): void {
    if (!this.contexts.markGone(id)) return;
    const ctx = this.contexts.obtain(id);
    for (const h of this.handles.takeWaitingOn(id)) this.deliver(this.deadFor(ctx, h, why));
    this.events$.next({ type: 'disconnect', context: ctx });
    ctx.onDisconnect();
  }

  // ---------------------------------------------------------------- connecting

  /**
   * How many connections this router makes at once; more wait their turn.
   * Fan-out to hundreds of hosts stays within what the machine (and sshd's
   * MaxStartups) can take.
   */
  maxConcurrentConnects = 32;
  private connecting = 0;

  /** Connections under way now (at most maxConcurrentConnects). */
  get connectsInFlight(): number {
    return this.connecting;
  }
  private readonly connectQueue: (() => void)[] = [];

  /** Starts a context with any transport: the core of every connection method. */
  override async connect<O>(transport: AnyTransport<O>, opts: O & ConnectOptions): Promise<Context> {
    if (this.connecting >= this.maxConcurrentConnects) await new Promise<void>((r) => this.connectQueue.push(r));
    this.connecting++;
    try {
      return await this.connectNow(transport, opts);
    } finally {
      this.connecting--;
      this.connectQueue.shift()?.();
    }
  }

  private async connectNow<O>(transport: AnyTransport<O>, opts: O & ConnectOptions): Promise<Context> {
    if (this.shutdownPromise) throw new MitogenError('cannot connect: the router has shut down');
    const contextId = await this.broker.control((api) => api.allocateId());
    const spec = connectSpec(transport, opts, contextId, this.limits);
    const result = opts.via
      ? await connectVia(this, opts.via, spec)
      : await this.broker.connect(spec);
    const ctx = this.contexts.routed(result.contextId, result.name);
    // As Mitogen's proxy_connect: a context built through another is named by its path, `<via name>.<name>`.
    ctx.name = opts.via ? `${opts.via.name}.${result.name}` : result.name;
    ctx.via = opts.via;
    if (result.booting) this.contexts.trackStart(ctx);
    // A plain local child or a fork reads our files; one run through another interpreter (a mount namespace, say) may not.
    ctx.seesMasterFiles = this.myId === 0 && !opts.via
      && (transport.kind === 'fork' || (transport.method === 'local' && (opts as LocalOptions).nodePath === undefined));
    this.events$.next({ type: 'connect', context: ctx });
    return ctx;
  }

  /** Function sources (with their caller) whose imports the master has begun gathering. */
  private readonly prefetchedCalls = new Set<string>();

  /**
   * @internal A call is being sent (a function's source made from `caller`, or
   * a module's export): the master's broker gathers what it imports while the
   * call travels (once per function or module),
   * so the child's first request for it is answered at once.
   */
  prefetchCall(call: CallToCome): void {
    if (this.myId !== 0 || this.broker.isShutdown) return;
    const key = 'url' in call ? call.url : `${call.caller}\0${call.source}`;
    if (this.prefetchedCalls.has(key)) return;
    // Bounded: functions made at run time (new Function) each have a source of their own.
    if (this.prefetchedCalls.size >= 4096) this.prefetchedCalls.clear();
    this.prefetchedCalls.add(key);
    // After this turn, so the call itself reaches the broker (and the wire) first.
    setImmediate(() => {
      if (!this.broker.isShutdown) void this.broker.control((api) => api.prefetch(call)).catch(() => { /* the child's request says what is wrong */ });
    });
  }

  // ---------------------------------------------------------------- shutdown

  /** Shuts every child down, then the broker. Idempotent; resolves when all are gone. */
  shutdown(): Promise<void> {
    return (this.shutdownPromise ??= (async () => {
      await this.broker.shutdown();
      this.onBrokerExit();
    })());
  }

  get isShutdown(): boolean {
    return this.shutdownPromise !== undefined || this.brokerGone;
  }

  private brokerGone = false;

  /**
   * The broker has ended (router.shutdown(), broker.shutdown(), or its worker
   * died): as Mitogen's _on_broker_exit, every handler, persistent ones too, is
   * removed and given a dead message, so nothing waits for what cannot come.
   */
  private onBrokerExit(): void {
    if (this.brokerGone) return;
    this.brokerGone = true;
    this.stopDebugWatch();
    for (const id of this.contexts.ids()) if (id !== this.myId) this.onDisconnect(id);
    this.handles.drain(Router.brokerExitMsg);
    this.events$.next({ type: 'shutdown' });
    this.events$.complete();
  }

  /** The reason in the dead message every handler receives when the broker ends (Mitogen's broker_exit_msg). */
  static readonly brokerExitMsg = 'the broker has exited';
}
