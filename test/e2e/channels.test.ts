import test from 'ava';
import { filter, from, map, take, toArray, lastValueFrom, bufferCount } from 'rxjs';
import { CallError, Channel, ChannelError, currentRouter, Latch, LatchError, Receiver, Select, Sender, TimeoutError } from '../../src/index.js';
import { routerFor } from '../helpers.js';

test('Receiver.get times out with TimeoutError, and close() rejects a pending get with ChannelError', async (t) => {
  const router = routerFor(t);
  const rx = new Receiver(router);
  await t.throwsAsync(rx.get({ timeout: 0.05 }), { instanceOf: TimeoutError, message: /timed out after 0.05 seconds/ });
  const pending = rx.get();
  rx.close();
  await t.throwsAsync(pending, { instanceOf: ChannelError, message: 'the Receiver has been closed' });
});

test('20,000 messages from a grandchild arrive in order, none lost', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const grandchild = await router.local({ via: child });
  const rx = new Receiver(router);
  const n = 20_000;
  grandchild.callNoReply((s: Sender, count: number) => {
    for (let i = 0; i < count; i++) s.send(i);
    s.close();
  }, rx.toSender(), n);
  let expected = 0;
  for await (const msg of rx) {
    const v = msg.decode() as number;
    if (v !== expected) break;
    expected++;
  }
  t.is(expected, n);
});

test('Select over calls to two children yields both results; Select.all collects them', async (t) => {
  const router = routerFor(t);
  const [a, b] = await Promise.all([router.local(), router.local()]);
  const sel = new Select([a.callAsync(() => 'from a'), b.callAsync(() => 'from b')]);
  const got: unknown[] = [];
  for await (const msg of sel) got.push(msg.decode());
  t.deepEqual(got.sort(), ['from a', 'from b']);
  t.deepEqual((await Select.all([a.callAsync(() => 1), b.callAsync(() => 2)])).sort(), [1, 2]);
  // A failed call surfaces as its CallError when decoded.
  await t.throwsAsync(Select.all([a.callAsync(() => { throw new Error('boom'); })]), { instanceOf: CallError, message: 'Error: boom' });
});

test('Select holds Latches and nested Selects; add, remove, timeout and empty', async (t) => {
  const l1 = new Latch<string>();
  const l2 = new Latch<string>();
  const inner = new Select<string>([l2]);
  const sel = new Select<string>([l1, inner], { oneshot: false });
  l2.put('deep');
  t.is(await sel.get(), 'deep');
  setImmediate(() => l1.put('shallow'));
  const ev = await sel.getEvent();
  t.is(ev.data, 'shallow');
  t.is(ev.source, l1);
  await t.throwsAsync(sel.get({ timeout: 0.05 }), { instanceOf: TimeoutError });
  // The inner (oneshot) Select gave its only item and was dropped as exhausted; l1 stays (oneshot: false).
  t.is(sel.size, 1);
  t.throws(() => sel.remove(inner), { instanceOf: LatchError });
  sel.remove(l1);
  t.is(sel.size, 0);
  await t.throwsAsync(sel.get(), { instanceOf: LatchError, message: 'Cannot get() from an empty Select' });
  t.throws(() => sel.remove(l1), { instanceOf: LatchError });
  l1.close();
  await t.throwsAsync(l1.get(), { instanceOf: LatchError });
});

test('Channel pairs a Receiver with a Sender: a duplex conversation with a child', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const [childHandle] = await Promise.all([child.call(() => {
    const r = currentRouter()!;
    const rx = new Receiver(r);
    // Echo every message back, doubled, to the sender given in the first message.
    void (async () => {
      let reply: Sender | undefined;
      for await (const m of rx) {
        const v = m.decode() as { back?: Sender; n?: number };
        if (v.back) reply = v.back;
        else reply!.send(v.n! * 2);
      }
    })();
    return rx.handle;
  })]);
  const ch = new Channel(router, child, childHandle);
  ch.send({ back: ch.toSender() });
  ch.send({ n: 21 });
  t.is((await ch.get({ timeout: 10 })).decode(), 42);
  ch.close();
});

test('a dead context ends its Receivers with ChannelError', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router, { respondent: child });
  const pid = await child.call(() => process.pid);
  const pending = rx.get();
  process.kill(pid, 'SIGKILL');
  await t.throwsAsync(pending, { instanceOf: ChannelError, message: /has disconnected/ });
  await t.throwsAsync(rx.get(), { instanceOf: ChannelError });
});

test('from(receiver) and rxjs operators work on a channel', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const rx = new Receiver(router);
  child.callNoReply((s: Sender) => { for (let i = 0; i < 10; i++) s.send(i); s.close(); }, rx.toSender());
  const evens = await lastValueFrom(from(rx).pipe(map((m) => m.decode() as number), filter((n) => n % 2 === 0), toArray()));
  t.deepEqual(evens, [0, 2, 4, 6, 8]);
});

test('a remote Observable through filter/take, with teardown observed in the child', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const values = await lastValueFrom(child.observe<number>(async () => {
    const { interval, finalize } = await import('rxjs');
    (globalThis as Record<string, unknown>).torn = false;
    return interval(1).pipe(finalize(() => { (globalThis as Record<string, unknown>).torn = true; }));
  }).pipe(filter((n) => n % 2 === 1), take(3), toArray()));
  t.deepEqual(values, [1, 3, 5]);
  // The unsubscribe went out before this call, on the same route: teardown has run.
  t.true(await child.call(() => (globalThis as Record<string, unknown>).torn as boolean));
});

test('a remote async generator through a via chain; errors arrive as CallError notifications', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const leaf = await router.local({ via: child });
  const got = await lastValueFrom(leaf.observe<string>(async function* () {
    yield 'a'; yield 'b'; yield 'c';
  }).pipe(toArray()));
  t.deepEqual(got, ['a', 'b', 'c']);
  const err = await t.throwsAsync(lastValueFrom(leaf.observe(async function* () {
    yield 1;
    throw new RangeError('stream broke');
  })), { instanceOf: CallError });
  t.is(err!.message, 'RangeError: stream broke');
  t.regex(err!.remoteStack, /stream broke/);
  const notObservable = await t.throwsAsync(lastValueFrom(leaf.observe(() => 42)), { instanceOf: CallError });
  t.regex(notObservable!.message, /Observable or an AsyncIterable/);
});

test('for await over a remote Observable pulls with backpressure and tears down on break', async (t) => {
  const router = routerFor(t);
  // Integers below 128 are one byte each in msgpack: a 32-byte window is 32 values.
  router.observeWindow = { bytes: 32, maxBytes: 32 };
  const child = await router.local();
  type Counters = { emitted?: number; stopped?: boolean };
  const emitted = (): Promise<number> => child.call(() => (globalThis as Counters).emitted ?? 0);
  const seen: number[] = [];
  let maxLead = 0;
  for await (const n of child.observe<number>(async function* () {
    const g = globalThis as Counters;
    g.emitted = 0;
    try {
      for (let i = 0; ; i++) { g.emitted++; yield i; }
    } finally {
      g.stopped = true;
    }
  })) {
    seen.push(n);
    // Counted in the producer while this loop is paused: never more than the window ahead.
    const lead = (await emitted()) - seen.length;
    maxLead = Math.max(maxLead, lead);
    t.true(lead <= 32, `after ${seen.length} values the producer is ${lead} ahead of a 32-byte window`);
    if (n === 99) break;
  }
  t.is(seen.length, 100);
  t.deepEqual(seen.slice(0, 3), [0, 1, 2]);
  t.true(maxLead >= 16, `the producer ran ${maxLead} ahead`);
  t.true(await child.call(() => (globalThis as Counters).stopped === true));
  t.true((await emitted()) <= seen.length + 32);
});

test('a fast producer of 300 x 1 MiB and a slow consumer keep the master\'s memory bounded', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const gc = (globalThis as { gc?: () => void }).gc;
  t.is(typeof gc, 'function', 'ava runs with --expose-gc');
  // Warm up so the baseline includes the codec and worker buffers.
  await child.call(() => new Uint8Array(1 << 20));
  gc!();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  // What the runtime holds, measured after a collection: the chunks received and not yet taken
  // (external memory: the chunks arrive in buffers the broker made, which arrayBuffers does not count).
  let heldPeak = 0;
  let heldAt100 = 0;
  let count = 0;
  let bytes = 0;
  const { createHash } = await import('node:crypto');
  for await (const chunk of child.observe<Uint8Array>(async function* () {
    const block = new Uint8Array(1 << 20).fill(7);
    for (let i = 0; i < 300; i++) yield block;
  })) {
    // A slow consumer: hash every chunk a few times before taking the next.
    for (let k = 0; k < 4; k++) createHash('sha256').update(chunk).digest();
    count++;
    bytes += chunk.byteLength;
    if (count % 10 === 0) {
      gc!();
      heldPeak = Math.max(heldPeak, process.memoryUsage().external - base.external);
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (count === 100) heldAt100 = heldPeak;
  }
  t.is(count, 300);
  t.is(bytes, 300 << 20);
  const MiB = 1 << 20;
  const maxBytes = router.observeWindow.maxBytes ?? Math.max(router.observeWindow.bytes, 64 * MiB);
  t.log(`held at most ${(heldPeak / MiB).toFixed(1)} MiB of chunks (window up to ${maxBytes / MiB} MiB); RSS grew by ${((peakRss - base.rss) / MiB).toFixed(1)} MiB while 300 MiB streamed`);
  // The window bounds what waits here (it may grow to maxBytes for a fast link); a runtime that kept
  // the chunks would hold up to 300 MiB, and one that did not wait for the consumer, the same.
  t.true(heldPeak <= maxBytes + 4 * MiB, `held ${(heldPeak / MiB).toFixed(1)} MiB of chunks, over the window's ${maxBytes / MiB} MiB`);
  // Not growing with the stream: the last 200 chunks need no more room than the first 100 did.
  t.true(heldPeak - heldAt100 <= 4 * MiB, `the last 200 chunks raised what is held by ${((heldPeak - heldAt100) / MiB).toFixed(1)} MiB`);
  // RSS also counts allocator and heap slack (Node 24 keeps ~80 MiB of it): a loose bound, well under the 300 MiB streamed.
  t.true(peakRss - base.rss < maxBytes + 64 * MiB, `RSS grew by ${((peakRss - base.rss) / MiB).toFixed(1)} MiB`);
});

test('a pushing Observable beyond the window waits in the producer, not here', async (t) => {
  const router = routerFor(t);
  router.observeWindow = { messages: 4, bytes: 1 << 30 };
  const child = await router.local();
  type Counters = { emitted?: number };
  // Functions travel as source, without their closure: the count is an argument.
  const rangeIn = async (count: number) => {
    const { range, tap } = await import('rxjs');
    (globalThis as Counters).emitted = 0;
    return range(0, count).pipe(tap(() => { (globalThis as Counters).emitted!++; }));
  };
  const seen = await lastValueFrom(child.observe<number>(rangeIn, 5000).pipe(bufferCount(1000), map((b) => b.length), toArray()));
  t.deepEqual(seen, [1000, 1000, 1000, 1000, 1000]);
  // Pulled by a loop that checks at every step: the source emitted everything at once, and this
  // process never received more than the window beyond what the loop took; the rest waited there.
  const obs = child.observe<number>(rangeIn, 500);
  let taken = 0;
  for await (const n of obs) {
    t.is(n, taken++);
    t.true(obs.stats.values - taken <= 4, `${obs.stats.values} received, ${taken} taken`);
    if (taken === 1) t.is(await child.call(() => (globalThis as Counters).emitted), 500);
  }
  t.is(taken, 500);
});
