/**
 * The one shape of a result that may have failed: a value, or why not.
 * Plain data, so it crosses a MessagePort by structured clone and the wire by
 * msgpack as it is. Across the wire an Error in `why` keeps its class (the
 * codec's error extension); across a port it travels as codec bytes
 * (encodeBody), since structured clone keeps only an Error's name and
 * message. Dependency-free: the ESM hooks bundle includes it.
 */
export type Outcome<T, E = string> = { ok: true; value: T } | { ok: false; why: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E>(why: E): { ok: false; why: E } {
  return { ok: false, why };
}

/** What `fn` returns, or what it threw (sync or async) made into `why` by `keep`. */
export async function settle<T, E>(fn: () => T | PromiseLike<T>, keep: (thrown: unknown) => E): Promise<Outcome<T, E>> {
  try {
    return ok(await fn());
  } catch (e) {
    return fail(keep(e));
  }
}

/** The value, or throws `why` (made into the error to throw by `toError`). */
export function unwrap<T, E>(o: Outcome<T, E>, toError: (why: E) => unknown = (why) => why): T {
  if (o.ok) return o.value;
  throw toError(o.why);
}
