/**
 * The contexts a router knows, by id: one Context object for each (so every
 * reference to a context is the same object), which of them have gone, and
 * which children are still starting.
 */
import { Context } from './context.js';
import type { RouterView } from './context-view.js';

export class ContextTable {
  private readonly contexts = new Map<number, Context>();
  private readonly gone = new Set<number>();
  /** Children connected while still starting, not yet started: what to run once they have (or are gone). */
  private readonly starting = new Map<number, () => void>();
  /** Started before their connect's result was seen here (the event and the result travel apart). */
  private readonly startedEarly = new Set<number>();

  constructor(private readonly router: RouterView<Context>) {}

  get(id: number): Context | undefined {
    return this.contexts.get(id);
  }

  /** The one Context object for an id (made on first sight). */
  obtain(id: number, name?: string): Context {
    let ctx = this.contexts.get(id);
    if (!ctx) {
      ctx = new Context(this.router, id, name ?? `context.${id}`);
      this.contexts.set(id, ctx);
    } else if (name && ctx.name.startsWith('context.')) {
      ctx.name = name;
    }
    return ctx;
  }

  /**
   * A Context named in a message body: the known one for its id, else a
   * fresh one that is not kept — ids a peer makes up (a million of them,
   * say) must not grow the table. Contexts become known when they are routed
   * here, connected, or are the router's own or its ancestors.
   */
  ref(id: number, name?: string): Context {
    if (this.contexts.has(id) || this.router.hasParentAuthority(id)) return this.obtain(id, name);
    return new Context(this.router, id, name ?? `context.${id}`);
  }

  /** A route to `id` exists (again): it is known, and not gone. */
  routed(id: number, name?: string): Context {
    this.gone.delete(id);
    return this.obtain(id, name);
  }

  isGone(id: number): boolean {
    return this.gone.has(id);
  }

  /** Marks `id` gone (it is started, as far as waiting goes); false when it already was. */
  markGone(id: number): boolean {
    this.started(id);
    this.startedEarly.delete(id);
    if (this.gone.has(id)) return false;
    this.gone.add(id);
    return true;
  }

  /** Ids of the known contexts, those added while iterating included. */
  ids(): IterableIterator<number> {
    return this.contexts.keys();
  }

  /** Child `id` has started (its broker says so). */
  started(id: number): void {
    const done = this.starting.get(id);
    if (done) { this.starting.delete(id); done(); } else this.startedEarly.add(id);
  }

  /** A connect resolved while the child was still starting: its calls' deadlines wait for the start. */
  trackStart(ctx: Context): void {
    if (this.startedEarly.delete(ctx.contextId)) return;
    ctx.starting = new Promise<void>((resolve) => this.starting.set(ctx.contextId, () => { ctx.starting = undefined; resolve(); }));
  }
}
