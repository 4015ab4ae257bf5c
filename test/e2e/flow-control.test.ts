/**
 * ctx.observe()'s flow control, counted, never timed: the producer never runs
 * further ahead of the consumer than the window (bytes, and values when
 * capped); credit goes back in batches and values travel in batches; order,
 * per-value errors and completion are kept; the window grows for a consumer
 * held back by a real round trip (the delay proxy in front of a test host's
 * sshd) and never past its maximum, and does not grow for a slow consumer.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { lastValueFrom, map, materialize, take, toArray } from 'rxjs';
import { CallError, ChannelError } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { start } from '../../bench/lib/delay-proxy.js';
import { routerFor } from '../helpers.js';
import { host } from '../testbed.js';

/** A Uint8Array of 1024 bytes is msgpack bin16: 3 bytes of header. */
const KIB_VALUE = 1024 + 3;

type Counters = { emitted?: number; stopped?: boolean };
const emittedIn = (ctx: Context): Promise<number> => ctx.call(() => ((globalThis as Counters).emitted ?? 0));

test('the byte window bounds the producer: emitted − taken ≤ window + the one value waiting for credit, at every step', async (t) => {
  const router = routerFor(t);
  // Not a multiple of the value size: the producer pulls a value that does not fit, and holds it.
  const window = 8 * KIB_VALUE + 500;
  router.observeWindow = { bytes: window, maxBytes: window };
  const child = await router.local();
  let taken = 0;
  let maxLead = 0;
  for await (const v of child.observe<Uint8Array>(async function* () {
    const g = globalThis as Counters;
    g.emitted = 0;
    try {
      for (let i = 0; ; i++) { g.emitted++; yield new Uint8Array(1024).fill(i & 0xff); }
    } finally {
      g.stopped = true;
    }
  })) {
    t.is(v[0], taken & 0xff, 'in order');
    taken++;
    // The loop is paused here: the producer has had a round trip to run ahead as far as credit lets it.
    const lead = (await emittedIn(child)) - taken;
    maxLead = Math.max(maxLead, lead);
    t.true(lead * KIB_VALUE <= window + KIB_VALUE, `step ${taken}: ${lead} values ahead, window ${window} bytes`);
    if (taken === 200) break;
  }
  // Not vacuous: the producer did fill the window.
  t.true(maxLead * KIB_VALUE > window - KIB_VALUE, `the producer ran ${maxLead} values ahead`);
  t.true(await child.call(() => (globalThis as Counters).stopped === true), 'break tore the generator down');
  t.true((await emittedIn(child)) * KIB_VALUE <= taken * KIB_VALUE + window + KIB_VALUE);
});

test('a message cap bounds small values exactly: emitted − taken ≤ messages at every step and after break', async (t) => {
  const router = routerFor(t);
  router.observeWindow = { bytes: 1 << 20, messages: 8 };
  const child = await router.local();
  let taken = 0;
  let maxLead = 0;
  for await (const n of child.observe<number>(async function* () {
    const g = globalThis as Counters;
    g.emitted = 0;
    for (let i = 0; ; i++) { g.emitted++; yield i; }
  })) {
    t.is(n, taken);
    taken++;
    const lead = (await emittedIn(child)) - taken;
    maxLead = Math.max(maxLead, lead);
    t.true(lead <= 8, `step ${taken}: ${lead} values ahead of a cap of 8`);
    if (taken === 100) break;
  }
  t.is(maxLead, 8, 'the producer used the whole cap');
  t.true((await emittedIn(child)) <= taken + 8);
});

test('credit goes back in batches and values travel in batches: far fewer credit messages and frames than values', async (t) => {
  const router = routerFor(t);
  // Small enough that the 100,000 values (about 370 KB) refill it several times.
  router.observeWindow = { bytes: 64 * 1024 };
  const child = await router.local();
  const n = 100_000;
  const pulled = child.observe<number>(async function* (count: number) { for (let i = 0; i < count; i++) yield i; }, n);
  const got: number[] = [];
  for await (const v of pulled) got.push(v);
  t.is(got.length, n);
  t.true(got.every((v, i) => v === i), 'in order');
  t.is(pulled.stats.values, n);
  t.true(pulled.stats.credits >= 1, 'the window was refilled');
  t.true(pulled.stats.credits <= n / 1000, `${pulled.stats.credits} credit messages for ${n} values`);
  t.true(pulled.stats.frames <= n / 100, `${pulled.stats.frames} frames for ${n} values`);

  // A pushing Observable: everything it emits in one turn shares frames too.
  const pushed = child.observe<number>(async (count: number) => (await import('rxjs')).range(0, count), n);
  const all = await lastValueFrom(pushed.pipe(toArray()));
  t.true(all.length === n && all.every((v, i) => v === i), 'in order');
  t.true(pushed.stats.credits >= 1 && pushed.stats.credits <= n / 1000, `${pushed.stats.credits} credit messages`);
  t.true(pushed.stats.frames <= n / 100, `${pushed.stats.frames} frames`);
});

test('order, per-value errors and completion are as before: values sent before a failure arrive, then the CallError', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const unsendable = await lastValueFrom(child.observe<unknown>(async function* () {
    yield 1; yield 2;
    yield () => 3; // a function cannot travel
    yield 4;
  }).pipe(materialize(), toArray()));
  t.deepEqual(unsendable.slice(0, 2).map((n) => [n.kind, n.value]), [['N', 1], ['N', 2]]);
  t.is(unsendable.length, 3);
  const err = unsendable[2]!;
  t.true(err.kind === 'E' && err.error instanceof CallError);
  t.regex((err.error as CallError).message, /cannot send a value of type function/);
  // A cap far below the 1000 values: most of them wait in the producer, and the error must wait behind them.
  router.observeWindow = { bytes: 1 << 20, messages: 16 };
  const thrown = await lastValueFrom(child.observe<number>(async () => {
    const { concat, range, throwError } = await import('rxjs');
    return concat(range(0, 1000), throwError(() => new RangeError('after a thousand')));
  }).pipe(materialize(), toArray()));
  t.is(thrown.length, 1001);
  t.true(thrown.slice(0, 1000).every((n, i) => n.kind === 'N' && n.value === i), 'in order');
  const last = thrown[1000]!;
  t.true(last.kind === 'E' && last.error instanceof CallError && last.error.message === 'RangeError: after a thousand');
  t.deepEqual(await lastValueFrom(child.observe<number>(async function* () { yield 7; }).pipe(materialize(), toArray())).then((ns) => ns.map((n) => n.kind)), ['N', 'C']);
});

test('a producer that reuses its buffer after each yield: every value arrives as it was when yielded', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  // 100 KiB: large enough to skip the encoder, small enough that several would share a batch.
  const firsts = await lastValueFrom(child.observe<Uint8Array>(async function* () {
    const b = new Uint8Array(100 * 1024);
    for (let i = 0; i < 50; i++) { b.fill(i); yield b; }
  }).pipe(map((v) => v[0]! + v[v.byteLength - 1]!), toArray()));
  t.deepEqual(firsts, Array.from({ length: 50 }, (_, i) => 2 * i));
});

test('a slow consumer keeps the window it was given', async (t) => {
  const router = routerFor(t);
  router.observeWindow = { bytes: 8 * 1024, maxBytes: 1 << 20 };
  const child = await router.local();
  const obs = child.observe<Uint8Array>(async function* () { for (;;) yield new Uint8Array(1024); });
  let taken = 0;
  for await (const _ of obs) {
    // Slower than the link: a round trip per value, while the producer keeps a window queued here.
    await child.call(() => null);
    if (++taken === 100) break;
  }
  t.true(obs.stats.credits >= 10, `${obs.stats.credits} credit messages`);
  t.is(obs.stats.window, 8 * 1024);
});

test('a consumer slow in next() keeps the window it was given, though it drains each batch', async (t) => {
  const router = routerFor(t);
  // 31 values of 1 KiB: credit goes back after 16, and the refill arrives while 15 are still to be worked through.
  router.observeWindow = { bytes: 32 * 1024, maxBytes: 1 << 20 };
  const child = await router.local();
  const { createHash } = await import('node:crypto');
  const work = new Uint8Array(8 << 20);
  const obs = child.observe<Uint8Array>(async function* () { for (;;) yield new Uint8Array(1024); });
  let taken = 0;
  await lastValueFrom(obs.pipe(take(80), map((v) => {
    // Synchronous work per value: the next batch is already queued here when this one is done.
    createHash('sha256').update(work).digest();
    taken++;
    return v;
  })), { defaultValue: undefined });
  t.is(taken, 80);
  t.is(obs.stats.window, 32 * 1024, `${obs.stats.credits} credit messages`);
  t.true(obs.stats.credits >= 3, `${obs.stats.credits} credit messages`);
});

test('bad windows are refused by name with a RangeError', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const observe = (): unknown => child.observe(async function* () { yield 1; });
  router.observeWindow = { bytes: 0 };
  t.throws(observe, { instanceOf: RangeError, message: /observeWindow\.bytes must be a whole number >= 1, got 0/ });
  router.observeWindow = { bytes: 1024, messages: -1 };
  t.throws(observe, { instanceOf: RangeError, message: /observeWindow\.messages/ });
  router.observeWindow = { bytes: 1024, maxBytes: 512 };
  t.throws(observe, { instanceOf: RangeError, message: /observeWindow\.maxBytes \(512\) must be >= observeWindow\.bytes \(1024\)/ });
});

async function overTheProxy(t: ExecutionContext, router: Router): Promise<Context> {
  // 10 ms each way: a 20 ms round trip to h1's sshd.
  const proxy = await start({ target: { host: host('h1').addr, port: 22 }, delayMs: 10 });
  t.teardown(() => proxy.close());
  return router.ssh({
    hostname: '127.0.0.1', port: proxy.port, username: 'mitouser1', identityFile: '/home/mitouser1/.ssh/id_mitotest',
    client: 'ssh2', checkHostKeys: 'ignore', compression: false,
  });
}

test('over a 20 ms round trip the window of a fast consumer grows, to its maximum and not beyond', async (t) => {
  const router = routerFor(t);
  router.observeWindow = { bytes: 32 * 1024, maxBytes: 256 * 1024 };
  const ctx = await overTheProxy(t, router);
  const obs = ctx.observe<Uint8Array>(async function* (count: number) {
    const g = globalThis as Counters;
    g.emitted = 0;
    const block = new Uint8Array(1024);
    for (let i = 0; i < count; i++) { g.emitted++; yield block; }
  }, 4096);
  let taken = 0;
  const windows = new Set<number>();
  await new Promise<void>((resolve, reject) => obs.subscribe({
    next: () => { taken++; windows.add(obs.stats.window); }, error: reject, complete: resolve,
  }));
  t.is(taken, 4096);
  t.is(obs.stats.window, 256 * 1024, `windows seen: ${[...windows].join(', ')}`);
  t.true([...windows].every((w) => w <= 256 * 1024));
  t.true(windows.size > 1, 'it grew in steps');
});

test('a later stream from the same context starts at the window the last one grew to, within its own maximum, and is bounded by it', async (t) => {
  const router = routerFor(t);
  router.observeWindow = { bytes: 32 * 1024, maxBytes: 256 * 1024 };
  const ctx = await overTheProxy(t, router);
  const fast = ctx.observe<Uint8Array>(async function* (count: number) { const b = new Uint8Array(1024); for (let i = 0; i < count; i++) yield b; }, 4096);
  await lastValueFrom(fast, { defaultValue: undefined });
  t.is(fast.stats.window, 256 * 1024, 'the first stream grew to its maximum');
  const startsAt = async (): Promise<number> => {
    const obs = ctx.observe<Uint8Array>(async function* () {
      const g = globalThis as Counters;
      g.emitted = 0;
      for (;;) { g.emitted++; yield new Uint8Array(1024); }
    });
    let first = 0;
    let taken = 0;
    for await (const _ of obs) {
      if (++taken === 1) first = obs.stats.window;
      // A round trip per value: the producer fills its window, which must bound it.
      if (taken > 1) {
        const lead = (await emittedIn(ctx)) - taken;
        t.true(lead * KIB_VALUE <= first + KIB_VALUE, `step ${taken}: ${lead} values ahead, window ${first}`);
      }
      if (taken === 40) break;
    }
    return first;
  };
  t.is(await startsAt(), 256 * 1024);
  router.observeWindow = { bytes: 32 * 1024, maxBytes: 64 * 1024 };
  t.is(await startsAt(), 64 * 1024, 'never past this stream\'s own maximum');
  const other = await router.local();
  const fresh = other.observe<number>(async function* () { yield 1; });
  await lastValueFrom(fresh);
  t.is(fresh.stats.window, 32 * 1024, 'another context starts from the setting');
});

test('over a 20 ms round trip a grown window still bounds the producer: emitted − taken ≤ maxBytes + one value', async (t) => {
  const router = routerFor(t);
  const max = 64 * KIB_VALUE;
  router.observeWindow = { bytes: 8 * KIB_VALUE, maxBytes: max };
  const ctx = await overTheProxy(t, router);
  const obs = ctx.observe<Uint8Array>(async function* () {
    const g = globalThis as Counters;
    g.emitted = 0;
    for (;;) { g.emitted++; yield new Uint8Array(1024); }
  });
  let taken = 0;
  for await (const _ of obs) {
    taken++;
    // Fast for 300 values, then a round trip per value: by then the window has grown and the producer has filled it.
    if (taken > 300) {
      const lead = (await emittedIn(ctx)) - taken;
      t.true(lead * KIB_VALUE <= obs.stats.window + KIB_VALUE, `step ${taken}: ${lead} values ahead, window ${obs.stats.window}`);
    }
    if (taken === 320) break;
  }
  t.true(obs.stats.window > 8 * KIB_VALUE && obs.stats.window <= max, `window ${obs.stats.window}`);
});

test('a producer that sends a malformed batch ends the stream with ChannelError naming the context; the master carries on', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local({ name: 'hostile-producer' });
  // The child answers OBSERVE itself, with a batch whose fields are of the wrong types.
  await ctx.call(async () => {
    const { currentRouter, Message } = await import('../../src/index.js');
    const { OBSERVE } = await import('../../src/wire/handles.js');
    const r = currentRouter()!;
    r.delHandler(OBSERVE);
    r.addHandler((msg) => { r.route(Message.encoded(['b', 'not a list', 'yes', 'many'], { dstId: msg.srcId, handle: msg.replyTo })); }, { handle: OBSERVE });
  });
  const err = await t.throwsAsync(lastValueFrom(ctx.observe(async function* () { yield 1; })), { instanceOf: ChannelError });
  t.regex(err!.message, /malformed batch from hostile-producer/);
  t.is(await ctx.call(() => 'still fine'), 'still fine');
});
