/**
 * RouterActor: the routing table of one context, living in its broker worker.
 *
 * A frame arriving from a stream or from this context's main thread is
 * checked, then either handed to this context (main thread or broker) or
 * written to the stream that leads to its destination — without touching the
 * main thread, so a busy context still forwards traffic for its children.
 *
 * Checks, as Mitogen makes them: a frame's authId (and srcId) must route back
 * through the stream it arrived on; ADD_ROUTE/DEL_ROUTE are taken only from
 * the immediate child that owns the route; in unidirectional mode children
 * may not reach each other; frames over maxMessageSize are refused with a
 * dead reply to whoever waits on them.
 */
import { encodeBody, buildFrame, readHeader } from '../src/wire/codec.js';
import type { Header } from '../src/wire/codec.js';
import { ADD_ROUTE, BROKER_HANDLE_BASE, BROKER_HANDLES, DEL_ROUTE, IS_DEAD } from '../src/wire/handles.js';
import { Mailbox } from './mailbox.js';
import type { StreamActor } from './stream-actor.js';

export interface RouterActorOptions {
  myId: number;
  parentIds: number[];
  maxMessageSize: number;
  unidirectional: boolean;
  /** Delivers a frame addressed to this context's main thread. */
  toMain(frame: Uint8Array, header: Header): void;
  /** Delivers a frame addressed to a handle the broker answers itself. */
  toBroker(frame: Uint8Array, header: Header, from: StreamActor | null): void;
  /** Tells the main thread about route changes. */
  onRoutesChanged(event: { type: 'add'; id: number; name: string } | { type: 'del'; ids: number[]; why?: string }): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', text: string): void;
}

export class RouterActor {
  readonly myId: number;
  readonly parentIds: number[];
  parent: StreamActor | null = null;
  readonly children = new Set<StreamActor>();
  readonly #routes = new Map<number, StreamActor>();
  readonly names = new Map<number, string>();
  /**
   * Every frame this broker routes comes in here; observers see its header
   * (the frame and the stream it came on ride as plain arguments, so an
   * unobserved frame costs one call, no allocation).
   */
  readonly inbox = new Mailbox<Header, Uint8Array, StreamActor | null>((h, frame, from) => this.#route(frame, h, from));

  /** Table sizes, for stats: what a hostile peer could try to grow. */
  get sizes(): { routes: number; talkedTo: number } {
    let talkedTo = 0;
    for (const c of this.children) talkedTo += c.talkedTo.size;
    return { routes: this.#routes.size, talkedTo };
  }

  readonly #opts: RouterActorOptions;

  constructor(opts: RouterActorOptions) {
    this.#opts = opts;
    this.myId = opts.myId;
    this.parentIds = opts.parentIds;
  }

  get maxMessageSize(): number { return this.#opts.maxMessageSize; }
  set maxMessageSize(n: number) { this.#opts.maxMessageSize = n; }
  set unidirectional(on: boolean) { this.#opts.unidirectional = on; }

  /** True when `authId` may command this context: itself or one of its ancestors. */
  hasParentAuthority(authId: number): boolean {
    return authId === this.myId || this.parentIds.includes(authId);
  }

  /** The stream a message for `id` leaves on; 'self' for this context; null if none. */
  streamFor(id: number): StreamActor | 'self' | null {
    if (id === this.myId) return 'self';
    return this.#routes.get(id) ?? this.parent;
  }

  addChild(stream: StreamActor): void {
    this.children.add(stream);
    this.#routes.set(stream.remoteId, stream);
    this.names.set(stream.remoteId, stream.name);
    this.#announce(stream.remoteId, stream.name);
  }

  /** Routes one frame. `from` is the stream it arrived on, or null for this context. */
  route(frame: Uint8Array, h: Header, from: StreamActor | null): void {
    this.inbox.post(h, frame, from);
  }

  #route(frame: Uint8Array, h: Header, from: StreamActor | null): void {
    if (from) {
      if (this.streamFor(h.authId) !== from || (h.srcId !== h.authId && this.streamFor(h.srcId) !== from)) {
        this.#opts.log('warn', `bad auth_id: dropping message from ${from.name} claiming src ${h.srcId} auth ${h.authId} (handle ${h.handle})`);
        return;
      }
      if (h.length > this.#opts.maxMessageSize) {
        this.#refuseOversize(h);
        return;
      }
    } else if (h.length > this.#opts.maxMessageSize) {
      this.#refuseOversize(h);
      return;
    }

    if (h.dstId === this.myId) {
      if (BROKER_HANDLES.has(h.handle) || h.handle >= BROKER_HANDLE_BASE) this.#opts.toBroker(frame, h, from);
      else this.#opts.toMain(frame, h);
      return;
    }

    const out = this.#routes.get(h.dstId) ?? this.parent;
    if (!out || out.isClosed) {
      // Debug, as in Mitogen: routine when a context has just gone and replies are still on their way.
      this.#opts.log('debug', `no route to context ${h.dstId}: dropping message from ${from?.name ?? 'this context'} (src ${h.srcId}, handle ${h.handle})`);
      this.deadReply(h, `no route to context ${h.dstId} from context ${this.myId}`);
      return;
    }
    if (out === from) {
      // A frame must never bounce back where it came from: that is a loop.
      this.#opts.log('warn', `dropping message for ${h.dstId} that would loop back to ${from.name}`);
      return;
    }
    if (from && from !== this.parent && out !== this.parent && this.#opts.unidirectional
        && !this.hasParentAuthority(h.authId)) {
      this.#opts.log('warn', `unidirectional: refusing message from ${from.name} to context ${h.dstId}`);
      this.deadReply(h, `unidirectional routing refuses messages between child contexts (${h.srcId} -> ${h.dstId})`);
      return;
    }
    // Remembered for DEL_ROUTE fan-out, which concerns only ids routed below us: an
    // unroutable or upward id is not kept, so a child sending to endless ids grows nothing.
    if (from && this.#routes.get(h.dstId) === out) from.talkedTo.add(h.dstId);
    out.write(frame);
  }

  /** ADD_ROUTE from an immediate child: `id` is reachable through it. */
  onAddRoute(from: StreamActor | null, h: Header, id: number, name: string): void {
    if (!from || !this.children.has(from) || h.srcId !== from.remoteId) {
      this.#opts.log('warn', `refusing ADD_ROUTE(${id}) from ${from?.name ?? 'this context'}: not an immediate child`);
      return;
    }
    const existing = this.streamFor(id);
    if (existing === 'self' || this.parentIds.includes(id) || (this.#routes.has(id) && existing !== from)) {
      this.#opts.log('warn', `refusing ADD_ROUTE(${id}) from ${from.name}: that id is already routed elsewhere`);
      return;
    }
    this.#routes.set(id, from);
    this.names.set(id, name);
    from.addedIds.add(id);
    this.#announce(id, name);
  }

  /**
   * DEL_ROUTE from the child that owned the route. Only ids it announced: its
   * own id is gone when its stream closes, not when it says so (else it could
   * leave its stream open with every frame on it failing the auth check).
   */
  onDelRoute(from: StreamActor | null, h: Header, id: number, why?: string): void {
    if (!from || h.srcId !== from.remoteId || this.#routes.get(id) !== from || id === from.remoteId) {
      this.#opts.log('warn', `refusing DEL_ROUTE(${id}) from ${from?.name ?? 'this context'}: it does not own that route`);
      return;
    }
    this.#forget([id], from, why);
  }

  /**
   * A child stream ended: every id behind it is gone. `why`, when known, says
   * what the stream was doing (being sent a module, say): it travels with
   * DEL_ROUTE and reaches the callers that fail.
   */
  onChildClosed(stream: StreamActor, why?: string): number[] {
    this.children.delete(stream);
    const ids = [stream.remoteId, ...stream.addedIds].filter((id) => this.#routes.get(id) === stream);
    this.#forget(ids, stream, why);
    return ids;
  }

  #forget(ids: number[], via: StreamActor, why?: string): void {
    if (!ids.length) return;
    for (const id of ids) {
      this.#routes.delete(id);
      via.addedIds.delete(id);
    }
    for (const id of ids) {
      const body = encodeBody(why === undefined ? id : [id, why]);
      // Up to our parent, and down to every other child that talked to the dead context.
      if (this.parent) this.#sendControl(this.parent, DEL_ROUTE, body);
      for (const child of this.children) {
        if (child !== via && child.talkedTo.has(id)) this.#sendControl(child, DEL_ROUTE, body, child.remoteId);
        child.talkedTo.delete(id); // told once; a context that comes and goes leaves nothing behind
      }
    }
    this.#opts.onRoutesChanged(why === undefined ? { type: 'del', ids } : { type: 'del', ids, why });
  }

  /** A DEL_ROUTE from our parent: a context we talked to is gone. */
  onParentDelRoute(id: number, why?: string): void {
    if (this.#routes.has(id)) return; // it is ours: we know better.
    // Our parent tells us only because someone below us talked to `id`; which
    // child it was is not kept (upward ids are not remembered, so made-up ids
    // grow nothing), so every child is told, one frame each: a grandchild
    // waiting on a far sibling learns it is gone (Mitogen's far-sibling case).
    const body = encodeBody(why === undefined ? id : [id, why]);
    for (const child of this.children) this.#sendControl(child, DEL_ROUTE, body, child.remoteId);
    this.#opts.onRoutesChanged(why === undefined ? { type: 'del', ids: [id] } : { type: 'del', ids: [id], why });
  }

  #announce(id: number, name: string): void {
    if (this.parent) this.#sendControl(this.parent, ADD_ROUTE, encodeBody([id, name]));
    this.#opts.onRoutesChanged({ type: 'add', id, name });
  }

  #sendControl(stream: StreamActor, handle: number, body: Uint8Array, dstId = this.parentIds[0] ?? 0): void {
    stream.write(buildFrame({ dstId, srcId: this.myId, authId: this.myId, handle, replyTo: 0 }, body));
  }

  #refuseOversize(h: Header): void {
    const reason = `message too large: ${h.length} bytes exceeds maxMessageSize ${this.#opts.maxMessageSize} bytes (max ${this.#opts.maxMessageSize} bytes)`;
    this.#opts.log('error', `refusing message for ${h.dstId} handle ${h.handle}: ${reason}`);
    if (h.replyTo && h.replyTo !== IS_DEAD) this.deadReply(h, reason);
    else if (h.replyTo !== IS_DEAD) this.sendDead(h.dstId, h.handle, reason);
  }

  /** Tells the sender of `h` that its message will never be answered, and why. */
  deadReply(h: Header, reason: string): void {
    if (!h.replyTo || h.replyTo === IS_DEAD) return;
    this.sendDead(h.srcId, h.replyTo, reason);
  }

  sendDead(dstId: number, handle: number, reason: string): void {
    const frame = buildFrame({ dstId, srcId: this.myId, authId: this.myId, handle, replyTo: IS_DEAD }, encodeBody(reason));
    const h: Header = { dstId, srcId: this.myId, authId: this.myId, handle, replyTo: IS_DEAD, length: frame.length - 26 };
    if (dstId === this.myId) { this.#opts.toMain(frame, h); return; }
    const out = this.#routes.get(dstId) ?? this.parent;
    if (out && !out.isClosed) out.write(frame);
  }

  /** Sends a message of this context's own (its broker's) toward `handle` of `dstId`, `body` encoded. */
  post(dstId: number, handle: number, body: unknown, replyTo = 0): void {
    const frame = buildFrame({ dstId, srcId: this.myId, authId: this.myId, handle, replyTo }, encodeBody(body));
    this.route(frame, readHeader(frame), null);
  }
}
