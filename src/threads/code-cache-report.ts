/**
 * A child's CODE_CACHE report on one of its bundles, made the same way on
 * its main thread (the main bundle) and in its broker (the broker bundle).
 */
import type { Script } from 'node:vm';
import { deflateSync } from 'node:zlib';
import type { CodeCacheReport } from './bootstrap-types.js';

/** How long after its start a child makes its caches: late enough that the first calls' lazily compiled functions are in them. */
export const CODE_CACHE_REPORT_DELAY_MS = 300;

/** What V8 did with the cache `script` was compiled with (no cachedDataRejected: it was given none). */
export function cacheGiven(script: Script): CodeCacheReport['given'] {
  return script.cachedDataRejected === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
}

/** What the parent asked of this child's caches (ChildConfig.cw / .cc), and how large a message it takes now. */
export interface ReportAsk {
  env: string;
  /** The parent wants a fresh cache back. */
  want: boolean;
  /** The parent sent a cache (one that was not taken is replaced by a fresh one). */
  offered: boolean;
  maxMessageSize: () => number;
}

/**
 * Sends `part`'s report a while after the start (off the boot's path), with a
 * fresh cache when asked for one or when the one sent was not taken. A cache
 * rides only if the report stays well under the largest message the parent
 * takes (the rest is a few fields): a router with a small maxMessageSize gets
 * the report without it, rather than refusing the message as too large.
 * `send` is not called once `gone()` says the context is going.
 */
export function scheduleCodeCacheReport(part: CodeCacheReport['part'], script: Script, ask: ReportAsk, send: (report: CodeCacheReport) => void, gone: () => boolean): void {
  const given = cacheGiven(script);
  setTimeout(() => {
    if (gone()) return;
    const data = ask.want || (ask.offered && given !== 'accepted') ? deflateSync(script.createCachedData()) : undefined;
    send({ part, env: ask.env, given, ...(data && data.byteLength + 1024 <= ask.maxMessageSize() ? { data } : {}) });
  }, CODE_CACHE_REPORT_DELAY_MS).unref();
}
