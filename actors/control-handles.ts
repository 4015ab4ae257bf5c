/**
 * The handles a broker answers itself, without its main thread: replies to
 * its own requests, ADD_ROUTE, DEL_ROUTE, GET_MODULE, ALLOCATE_ID, CONNECT,
 * SHUTDOWN and CODE_CACHE.
 */
import { decodeBody, HEADER_SIZE } from '../src/wire/codec.js';
import type { Header } from '../src/wire/codec.js';
import { MitogenError } from '../src/wire/errors.js';
import { ADD_ROUTE, ALLOCATE_ID, BROKER_HANDLE_BASE, CODE_CACHE, CONNECT, DEL_ROUTE, GET_MODULE, IS_DEAD, SHUTDOWN } from '../src/wire/handles.js';
import type { ConnectSpec } from '../src/threads/bootstrap-types.js';
import { fail, settle } from '../src/wire/outcome.js';
import type { BrokerParts } from './broker-parts.js';
import { addRouteBody, codeCacheBody, delRouteBody, moduleRequestBody } from './control-bodies.js';
import type { Lease } from './id-allocator.js';
import type { ModuleReply } from '../src/modules/module-wire.js';
import type { RouterActor } from './router-actor.js';
import type { StreamActor } from './stream-actor.js';

function reply(router: RouterActor, h: Header, body: unknown): void {
  if (h.replyTo && h.replyTo !== IS_DEAD) router.post(h.srcId, h.replyTo, body);
}

export function answerControl(b: BrokerParts, frame: Uint8Array, h: Header, from: StreamActor | null): void {
  const { router, log: { line: log } } = b;
  const body = frame.subarray(HEADER_SIZE);
  const who = from?.name ?? 'this context';
  if (h.handle >= BROKER_HANDLE_BASE) {
    if (!b.requests.settle(h, body)) log('debug', `no request waits on handle ${h.handle}: dropping message from ${who}`);
    return;
  }
  if (h.replyTo === IS_DEAD) return;
  const malformed = (what: string, why: string): void => {
    log('warn', `malformed ${what} from ${who} (context ${h.srcId}): ${why}; dropped`);
  };
  switch (h.handle) {
    case ADD_ROUTE: {
      const v = addRouteBody(body);
      if (!v.ok) { malformed('ADD_ROUTE', v.why); return; }
      router.onAddRoute(from, h, v.value[0], v.value[1]);
      return;
    }
    case DEL_ROUTE: {
      const v = delRouteBody(body);
      if (!v.ok) { malformed('DEL_ROUTE', v.why); return; }
      if (from && from === router.parent) {
        // Only an ancestor may say a context is gone; a sibling's frame also arrives on the parent stream.
        if (router.hasParentAuthority(h.authId)) router.onParentDelRoute(v.value.id, v.value.why);
        else log('warn', `refusing DEL_ROUTE(${v.value.id}) from context ${h.authId}: no parent authority`);
      } else router.onDelRoute(from, h, v.value.id, v.value.why);
      return;
    }
    case GET_MODULE: {
      const v = moduleRequestBody(body);
      if (!v.ok) {
        malformed('GET_MODULE', v.why);
        reply(router, h, fail({ code: 'ERR_MODULE_FORWARDING', message: `malformed GET_MODULE request: ${v.why}` }) satisfies ModuleReply);
        return;
      }
      const modules = b.modules.actor;
      void modules.serve(v.value, { key: from ?? modules, remote: true }).then((r) => {
        if (b.log.debug) log('debug', `GET_MODULE ${v.value.kind} ${v.value.spec} from ${v.value.parent} for ${who}: ${r.ok ? `${r.value.url}${r.value.preload ? ' with a preload' : ''}` : r.why.code}`);
        // Refusals are the policy at work: worth a line naming who asked.
        if (!r.ok && r.why.code === 'ERR_MODULE_REFUSED') log('warn', `refused module ${v.value.spec} to ${who} (context ${h.srcId}): ${r.why.message}`);
        else if (from && from !== router.parent && !from.isClosed) b.importing.set(from, JSON.stringify(v.value.spec));
        reply(router, h, r);
      });
      return;
    }
    case ALLOCATE_ID: {
      const l = b.ids.leaseBlock(from ?? b.ids, who) ?? fail(`context ${router.myId} is not the master, which alone leases ids`);
      if (!l.ok) log('warn', `refusing ALLOCATE_ID from context ${h.srcId}: ${l.why}`);
      reply(router, h, l satisfies Lease);
      return;
    }
    case CONNECT: {
      if (!router.hasParentAuthority(h.authId)) {
        log('warn', `refusing CONNECT from context ${h.authId}: no parent authority`);
        reply(router, h, fail(new MitogenError(`CONNECT refused: context ${h.authId} has no authority over ${router.myId}`)));
        return;
      }
      let spec: ConnectSpec;
      try { spec = decodeBody(body) as ConnectSpec; } catch (e) { reply(router, h, fail(e)); return; }
      // A parent's connect through us resolves once the child has started: its
      // callers' deadlines then never include the child's own start. The error
      // in a failed Outcome keeps its class: the codec carries it.
      void settle(() => b.connect(spec, true), (e) => e).then((o) => reply(router, h, o));
      return;
    }
    case CODE_CACHE: {
      // Only from a child this broker started, about itself: a grandchild's report
      // routed through it would put one target's code in another's cache.
      if (!from || from === router.parent || h.srcId !== from.remoteId) { malformed('CODE_CACHE', 'not from a child of this context about itself'); return; }
      const v = codeCacheBody(body);
      if (!v.ok) { malformed('CODE_CACHE', v.why); return; }
      const dropped = b.codeCaches.onReport(from, v.value);
      if (dropped) log('debug', `code cache from ${who} not kept: ${dropped}`);
      return;
    }
    case SHUTDOWN: {
      if (!router.hasParentAuthority(h.authId)) {
        log('warn', `refusing SHUTDOWN from context ${h.authId}: no parent authority`);
        return;
      }
      void b.shutdown('asked to shut down');
      return;
    }
  }
}
