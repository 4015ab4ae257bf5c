/**
 * The dispatcher: runs calls in a child. A call's function arrives as source
 * and is compiled once per (source, caller) — inside it, `require` and
 * `import()` reach the module importer, so modules this context lacks are
 * forwarded from the master. Only the parent and its ancestors may call.
 */
import type { CallBody } from '../wire/call.js';
import { CallError } from '../wire/errors.js';
import { CallScopes } from './call-deadline-scope.js';
import { CALL_FUNCTION, CANCEL_CALL } from '../wire/handles.js';
import type { Message } from '../wire/message.js';
import type { ModuleImporter } from '../modules/module-importer.js';
import type { Router } from './router.js';
import { currentCall, currentRouter, withCurrentCall } from './current.js';
import { rewriteDynamicImport } from '../modules/rewrite-import.js';

type Compiled = (...args: unknown[]) => unknown;

const MAX_COMPILED = 2000;

/** esbuild (tsx) wraps named inner functions in __name(): give shipped sources one. */
function nameHelper<T>(fn: T, value: string): T {
  try { Object.defineProperty(fn, 'name', { value, configurable: true }); } catch { /* frozen */ }
  return fn;
}

export class Dispatcher {
  private readonly compiled = new Map<string, Compiled>();
  private readonly scopes = new CallScopes();

  /**
   * Names a shipped function may use without importing them: mitogen-ts's own
   * exports (a function written next to `import { Message } from 'mitogen-ts'`
   * keeps working in the child), plus require, import() and esbuild's __name.
   */
  private readonly scopeNames: string[];
  private readonly scopeValues: unknown[];

  constructor(private readonly router: Router, private readonly importer: ModuleImporter, scope: Record<string, unknown> = {}) {
    const all: Record<string, unknown> = { currentRouter, currentCall, ...scope };
    this.scopeNames = Object.keys(all);
    this.scopeValues = Object.values(all);
    router.addHandler((msg) => void this.run(msg), {
      handle: CALL_FUNCTION,
      persist: true,
      policy: (msg) => router.hasParentAuthority(msg.authId),
    });
    // A caller that gave up (callWith's timeout or signal): abort that call's signal.
    router.addHandler((msg) => {
      try { this.scopes.cancel(msg.srcId, msg.decode()); } catch { /* a malformed cancel aborts nothing */ }
    }, { handle: CANCEL_CALL, persist: true, policy: (msg) => router.hasParentAuthority(msg.authId) });
  }

  private ready: Promise<void> = Promise.resolve();

  /** Holds every call until `until` settles (a fork's onStart). A failure fails the calls. */
  gate(until: Promise<void>): void {
    this.ready = until;
    until.catch((e: unknown) => this.router.forwardLog(this.router.name, 'error', `onStart failed: ${(e as Error)?.stack ?? e}`));
  }

  /** The function a call body names: compiled source, or an export imported by URL. */
  async resolve(body: CallBody, opts: { ungated?: boolean } = {}): Promise<Compiled> {
    if (!opts.ungated) await this.ready;
    const [src, url, exportName, , caller] = body;
    return src !== null ? this.compile(src, caller) : this.importer.exportOf(url!, exportName!);
  }

  private async run(msg: Message): Promise<void> {
    let result: unknown;
    // Opened before any await: a cancel that follows the call finds it.
    const scope = this.scopes.open(msg.srcId, msg.replyTo);
    try {
      const body = msg.decode() as CallBody;
      const fn = await this.resolve(body);
      // Given up on before it started (e.g. while its module loaded): do not start it.
      if (scope.aborted) throw scope.signal.reason;
      result = await withCurrentCall(scope, () => fn(...body[3]));
    } catch (e) {
      this.reply(msg, CallError.fromThrown(e));
      return;
    } finally {
      this.scopes.close(msg.srcId, msg.replyTo);
    }
    try {
      this.reply(msg, result);
    } catch (e) {
      // The result could not travel (e.g. a function): say so instead of going silent.
      this.reply(msg, CallError.fromThrown(e));
    }
  }

  private reply(msg: Message, value: unknown): void {
    if (msg.replyTo) msg.reply(value);
    else if (value instanceof CallError) this.router.forwardLog(this.router.name, 'error', `callNoReply failed: ${value.message}\n${value.remoteStack}`);
  }

  private compile(src: string, caller: string | null): Compiled {
    const key = caller ? `${caller}\0${src}` : src;
    let fn = this.compiled.get(key);
    if (fn) return fn;
    const body = `return (${rewriteDynamicImport(src)}\n)`;
    const factory = new Function('require', '__mitogenImport', '__name', ...this.scopeNames, body) as (...a: unknown[]) => Compiled;
    fn = factory(this.importer.requireFrom(caller), (s: string) => this.importer.importFrom(s, caller), nameHelper, ...this.scopeValues);
    if (typeof fn !== 'function') throw new TypeError('the call did not carry a function');
    if (this.compiled.size >= MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value!);
    this.compiled.set(key, fn);
    return fn;
  }
}
