/**
 * The V8 code caches a broker keeps for the children it starts (in memory
 * only: nothing is written anywhere, least of all on a target).
 *
 * A child compiles its two bundles with vm.Script; the first boot of a
 * target sends back what V8 made of them once they had run (CODE_CACHE),
 * and later boots of the same target are given it, so V8 skips most of the
 * parsing and compiling.
 *
 * Trust: V8 does not check cached bytecode against its source in release
 * builds, so a cache is code. A cache made by one child is therefore given
 * only to later boots of the *same target identity* (the same command up to
 * the interpreter: method, host, user, interpreter; the via-chain is this
 * broker itself, which keeps its own store), which could as well have been
 * compromised by the child that made it. The exception is a cache this
 * broker made itself (compiling, not running, the bundles), given to a
 * target that runs this very Node binary. `shareCodeCache` (off by
 * default) lets any target take any target's cache: a fleet of same-version
 * hosts then compiles the runtime once, but one compromised host could run
 * its code in every context booted after it (a root sudo context included).
 */
import { lazyCrypto } from '../src/threads/lazy-builtins.js';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Script } from 'node:vm';
import { deflateSync, inflateSync } from 'node:zlib';
import type { BootstrapSpec, CodeCacheReport, RuntimePayload } from '../src/threads/bootstrap-types.js';
import { codeEnv } from '../src/threads/bootstrap-types.js';
import { BROKER_WRAPPER, MAIN_WRAPPER } from '../src/wire/bundle-wrappers.js';
import type { StreamActor } from './stream-actor.js';

/** One bundle's cache bigger than this, deflated, is not kept (the runtime's are ~30-120 KiB). */
export const MAX_CACHE_BYTES = 4 * 1024 * 1024;
/** Targets whose caches are kept, at most; the least recently used goes first. */
export const MAX_CACHE_ENTRIES = 32;

interface Entry {
  /** codeEnv() of the child that made it. */
  env: string;
  /** Deflated, as reported and as sent: a cache shrinks to ~40 %, which matters on a slow link; the child inflates it in ~0.5 ms. */
  main?: Uint8Array;
  broker?: Uint8Array;
}

/** What one boot is given: the caches (deflated; an empty one: none), the env they were made for, and whether to send fresh ones back. */
export interface CodeCacheOffer {
  main: Uint8Array;
  broker: Uint8Array;
  env: string;
  want: boolean;
}

const NONE = new Uint8Array(0);

/**
 * The target a spec boots, as far as the connecting side can tell: the
 * command up to where the first stage starts (the tool, its options, the
 * host, the user, the interpreter), or the ssh2 session's host and options,
 * and the environment asked for.
 */
export function targetIdentity(spec: BootstrapSpec): string {
  const upToStage = (args: string[]): string[] => {
    const i = args.findIndex((a) => a.includes('MITO000'));
    return i < 0 ? args : [...args.slice(0, i), args[i]!.slice(0, args[i]!.indexOf('MITO000'))];
  };
  const what = spec.kind === 'spawn'
    ? ['spawn', spec.method, upToStage(spec.argv), spec.env ?? null]
    : ['ssh2', spec.method, spec.ssh2.host, spec.ssh2.sshArgs, upToStage([spec.ssh2.command])];
  return lazyCrypto().createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

let thisNode: string | undefined;
const resolved = new Map<string, string | null>();
/** An interpreter as the command names it, resolved like a spawn does (through PATH), to compare with this process's. */
function resolveCommand(cmd: string): string | null {
  let r = resolved.get(cmd);
  if (r === undefined) {
    const dirs = cmd.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
    const hit = dirs.map((d) => (d ? join(d, cmd) : cmd)).find((f) => existsSync(f));
    try { r = hit ? realpathSync(hit) : null; } catch { r = null; }
    resolved.set(cmd, r);
  }
  return r;
}

/** Whether the target runs the interpreter this process runs, directly (no tool in between that could run another). */
function runsThisNode(spec: BootstrapSpec): boolean {
  if (spec.kind !== 'spawn' || spec.argv[1] !== '-e' || spec.env?.NODE_OPTIONS !== undefined) return false;
  thisNode ??= realpathSync(process.execPath);
  return resolveCommand(spec.argv[0]!) === thisNode;
}

export class CodeCaches {
  /** Any target may take any target's cache (Router.shareCodeCache). */
  share = false;
  /** Bundles booted with a cache V8 accepted / rejected, as the children reported. */
  hits = 0;
  rejects = 0;
  /** Boots that were sent a cache. */
  sent = 0;
  /** Reports taken (one per bundle and boot), with or without a cache. */
  reports = 0;
  readonly #entries = new Map<string, Entry>();
  readonly #streams = new WeakMap<StreamActor, string>();
  #bundleHash?: string;
  #own?: Entry;

  constructor(private readonly payload: Uint8Array) {}

  get entries(): number { return this.#entries.size; }

  #key(identity: string): string {
    // A new runtime (another master's, or after an upgrade) never takes an old cache. Made when
    // first needed: a context that starts no child never loads node:crypto.
    this.#bundleHash ??= lazyCrypto().createHash('sha256').update(this.payload).digest('hex').slice(0, 16);
    return `${identity}:${this.#bundleHash}`;
  }

  /** What to send with a boot of `spec`, and whether to ask for fresh caches. */
  offer(spec: BootstrapSpec): CodeCacheOffer {
    const key = this.#key(targetIdentity(spec));
    let entry = this.#entries.get(key);
    if (entry) {
      // Most recently used last: the first one is what goes when the store is full.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    const want = !entry?.main || !entry.broker;
    if (!entry && runsThisNode(spec)) entry = this.#ownCache();
    if (!entry && this.share) entry = [...this.#entries.values()].pop();
    if (!entry) return { main: NONE, broker: NONE, env: '', want };
    this.sent++;
    return { main: entry.main ?? NONE, broker: entry.broker ?? NONE, env: entry.env, want };
  }

  /** The boot on `stream` was made from `spec`: its reports are kept for that target. */
  bind(stream: StreamActor, spec: BootstrapSpec): void {
    this.#streams.set(stream, this.#key(targetIdentity(spec)));
  }

  /** A child's CODE_CACHE report. Returns why it was dropped, if it was. */
  onReport(stream: StreamActor, report: CodeCacheReport): string | undefined {
    const key = this.#streams.get(stream);
    if (!key) return 'no boot of this stream was recorded';
    this.reports++;
    if (report.given === 'accepted') this.hits++;
    else if (report.given === 'rejected') this.rejects++;
    const { data } = report;
    if (!data) {
      // What was sent and not taken would not be taken again: drop it (a child sends a fresh one; this one did not).
      if (report.given !== 'accepted') {
        const entry = this.#entries.get(key);
        if (entry) delete entry[report.part];
      }
      return undefined;
    }
    if (data.byteLength > MAX_CACHE_BYTES) return `a cache of ${data.byteLength} bytes is over ${MAX_CACHE_BYTES}`;
    let entry = this.#entries.get(key);
    // A target whose Node changed starts again: the old caches would only be rejected.
    if (!entry || entry.env !== report.env) entry = { env: report.env };
    entry[report.part] = data.slice();
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > MAX_CACHE_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    return undefined;
  }

  /**
   * Caches this broker compiles itself (made once, kept): trusted, being its
   * own; made without running the bundles, so only their eagerly compiled
   * code is in them, until the child's own come back.
   */
  #ownCache(): Entry {
    if (!this.#own) {
      const J = JSON.parse(inflateSync(this.payload).toString('utf8')) as RuntimePayload;
      const make = (w: readonly [string, string], src: string, filename: string): Uint8Array =>
        deflateSync(new Script(w[0] + src + w[1], { filename }).createCachedData());
      this.#own = { env: codeEnv(), main: make(MAIN_WRAPPER, J.main, 'mitogen:main'), broker: make(BROKER_WRAPPER, J.broker, 'mitogen:broker') };
    }
    return this.#own;
  }
}
