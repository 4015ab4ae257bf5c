/**
 * The bodies of the broker's control handles (ADD_ROUTE, DEL_ROUTE,
 * GET_MODULE, CODE_CACHE), decoded and checked. They come from other contexts: a body
 * that is not msgpack, or not the expected shape, must be dropped and logged
 * — thrown from the broker's stream handling it would take the whole broker
 * (and every route through it) down.
 */
import { decodeBody } from '../src/wire/codec.js';
import { fail, ok } from '../src/wire/outcome.js';
import type { Outcome } from '../src/wire/outcome.js';
import type { ModuleRequest } from '../src/modules/module-wire.js';
import type { CodeCacheReport } from '../src/threads/bootstrap-types.js';

/** Context ids travel as u32 in every header. */
export function isContextId(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
}

function decoded(body: Uint8Array): Outcome<unknown> {
  try {
    return ok(decodeBody(body));
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** ADD_ROUTE: `[id, name]`. */
export function addRouteBody(body: Uint8Array): Outcome<[number, string]> {
  const d = decoded(body);
  if (!d.ok) return d;
  const v = d.value;
  if (!Array.isArray(v) || v.length !== 2 || !isContextId(v[0]) || typeof v[1] !== 'string') return fail('expected [id, name]');
  return ok([v[0], v[1]]);
}

/** DEL_ROUTE: `id`. */
/** The most of a DEL_ROUTE's reason that is kept (it ends up in callers' error messages). */
const MAX_WHY = 2000;

/** DEL_ROUTE: `id`, or `[id, why]` when the context that saw the route end knows what was under way. */
export function delRouteBody(body: Uint8Array): Outcome<{ id: number; why?: string }> {
  const d = decoded(body);
  if (!d.ok) return d;
  if (isContextId(d.value)) return ok({ id: d.value });
  const v = d.value;
  if (Array.isArray(v) && v.length === 2 && isContextId(v[0]) && typeof v[1] === 'string') {
    return ok({ id: v[0], why: v[1].slice(0, MAX_WHY) });
  }
  return fail('expected a context id, or [id, reason]');
}

/** GET_MODULE: `{spec, parent, kind}`. */
export function moduleRequestBody(body: Uint8Array): Outcome<ModuleRequest> {
  const d = decoded(body);
  if (!d.ok) return d;
  const v = d.value as Partial<ModuleRequest> | null;
  if (typeof v !== 'object' || v === null || typeof v.spec !== 'string' || typeof v.parent !== 'string'
      || (v.kind !== 'import' && v.kind !== 'require')) {
    return fail("expected {spec, parent, kind: 'import' | 'require'}");
  }
  return ok({ spec: v.spec, parent: v.parent, kind: v.kind });
}

/** CODE_CACHE: `{part: 'main' | 'broker', env, given, data?}`. */
export function codeCacheBody(body: Uint8Array): Outcome<CodeCacheReport> {
  const d = decoded(body);
  if (!d.ok) return d;
  const v = d.value as Partial<CodeCacheReport> | null;
  if (typeof v !== 'object' || v === null || (v.part !== 'main' && v.part !== 'broker') || typeof v.env !== 'string'
      || (v.data !== undefined && !(v.data instanceof Uint8Array))) {
    return fail('not a code cache report');
  }
  return ok(v as CodeCacheReport);
}
