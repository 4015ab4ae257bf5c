/**
 * Select: waits on several Receivers, Latches or Selects at once and yields
 * whichever has something first (Mitogen's Select). With `oneshot` (the
 * default, as in Mitogen) a member leaves the Select after yielding once,
 * which is what "wait for all these calls" wants.
 */
import { LatchError, TimeoutError } from '../wire/errors.js';
import type { Message } from '../wire/message.js';
import type { Selectable } from './selectable.js';

export interface SelectEvent<T> { source: Selectable<T>; data: T }

/** The Select each member is in (Mitogen checks `recv.notify` for the same). */
const owners = new WeakMap<Selectable<unknown>, Select<unknown>>();

export class Select<T = Message> implements Selectable<T>, AsyncIterable<T> {
  static readonly emptyMsg = 'Cannot get() from an empty Select';
  private readonly members: Selectable<T>[] = [];
  private readonly oneshot: boolean;
  private wake?: () => void;
  private readyListener?: () => void;
  private next = 0;

  constructor(members: Iterable<Selectable<T>> = [], opts: { oneshot?: boolean } = {}) {
    this.oneshot = opts.oneshot ?? true;
    for (const m of members) this.add(m);
  }

  /** Waits for every Receiver (e.g. of callAsync) and returns their decoded results, in arrival order. */
  static async all(receivers: Iterable<Selectable<Message>>): Promise<unknown[]> {
    const sel = new Select<Message>(receivers);
    const out: unknown[] = [];
    for await (const msg of sel) out.push(msg.decode());
    return out;
  }

  add(member: Selectable<T>): void {
    if ((member as unknown) === this || (member instanceof Select && member.contains(this))) {
      throw new LatchError('Adding this Select instance would create a Select cycle');
    }
    if (this.members.includes(member)) throw new LatchError('that member is already in this Select');
    // A member wakes one Select only: a second would take its wake-ups and leave the first waiting forever.
    if (owners.has(member)) throw new LatchError('Cannot add: that member is already in another Select');
    owners.set(member, this);
    this.members.push(member);
    member.setReadyListener(() => this.onReady());
    if (!member.empty()) this.onReady();
  }

  remove(member: Selectable<T>): void {
    const i = this.members.indexOf(member);
    if (i < 0) throw new LatchError('that member is not in this Select');
    this.members.splice(i, 1);
    owners.delete(member);
    member.setReadyListener(undefined);
  }

  /** Whether `target` is this Select or inside it at any depth (cycle check). */
  private contains(target: Selectable<T>): boolean {
    if ((target as unknown) === this) return true;
    return this.members.some((m) => m === target || (m instanceof Select && m.contains(target)));
  }

  /** Detaches every member and wakes a pending get(), which then throws LatchError (Mitogen's Select.close). */
  close(): void {
    for (const m of this.members.splice(0)) {
      owners.delete(m);
      m.setReadyListener(undefined);
    }
    this.onReady();
  }

  /** `using sel = new Select(...)`: the TS form of Mitogen's `with Select(...)`. */
  [Symbol.dispose](): void { this.close(); }
  async [Symbol.asyncDispose](): Promise<void> { this.close(); }

  get size(): number { return this.members.length; }
  empty(): boolean { return this.members.every((m) => m.empty()); }
  get isClosed(): boolean { return this.members.length === 0; }

  private onReady(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
    this.readyListener?.();
  }

  /** The next item from any member, with the member it came from. */
  async getEvent(opts: { timeout?: number } = {}): Promise<SelectEvent<T>> {
    const deadline = opts.timeout === undefined ? undefined : Date.now() + opts.timeout * 1000;
    for (;;) {
      const ev = this.takeEvent();
      if (ev) return ev;
      if (!this.members.length) throw new LatchError(Select.emptyMsg);
      await new Promise<void>((resolve, reject) => {
        this.wake = resolve;
        if (deadline !== undefined) {
          const left = deadline - Date.now();
          const timer = setTimeout(() => {
            this.wake = undefined;
            reject(new TimeoutError(`Select.get() timed out after ${opts.timeout} seconds`));
          }, Math.max(0, left));
          const prev = this.wake;
          this.wake = () => { clearTimeout(timer); prev(); };
        }
      });
    }
  }

  /** The next item from any member (for a Receiver: its Message, which may be dead). */
  async get(opts: { timeout?: number } = {}): Promise<T> {
    return (await this.getEvent(opts)).data;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (this.members.length || !this.empty()) {
      try {
        yield await this.get();
      } catch (e) {
        if (e instanceof LatchError) return;
        throw e;
      }
    }
  }

  private takeEvent(): SelectEvent<T> | undefined {
    const n = this.members.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const m = this.members[i]!;
      const got = m.takeReady();
      if (got) {
        this.next = i + 1;
        if (this.oneshot) this.remove(m);
        return { source: m, data: got.item };
      }
      if (m.isClosed && m.empty()) {
        // A closed member can yield nothing more.
        this.remove(m);
        return this.takeEvent();
      }
    }
    return undefined;
  }

  /** @internal Nested Selects. */
  takeReady(): { item: T } | undefined {
    const ev = this.takeEvent();
    return ev ? { item: ev.data } : undefined;
  }

  setReadyListener(fn: (() => void) | undefined): void {
    this.readyListener = fn;
  }
}
