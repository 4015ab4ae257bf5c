/**
 * Faults a real child can have, and what the master does about each: a child
 * stopped with SIGSTOP (calls wait — there is no keepalive — unless bounded
 * by a timeout), a child that closes its stdout but lives on, a target that
 * prints junk before the first stage, and a child flooding its parent with
 * messages nobody will take.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ChannelError, currentRouter, EofError, logRecords, logToFile, Message, Receiver, TimeoutError } from '../../src/index.js';
import type { RouterEvent } from '../../src/index.js';
import { bootstrapPid, collectLogs, pidAlive, routerFor, waitUntil } from '../helpers.js';

// Floods log thousands of lines: to a file, not the test output (records still reach logRecords).
logToFile(join(mkdtempSync(join(os.tmpdir(), 'mt-faults-')), 'log'));

/** The state letter of /proc/<pid>/stat: 'T' when stopped. */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

test('a stopped child (SIGSTOP): its calls wait, get({ timeout }) bounds the wait, and after SIGCONT the reply arrives', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const other = await router.local();
  const pid = await ctx.call(() => process.pid);
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => { if (pidAlive(pid)) process.kill(pid, 'SIGCONT'); });
  await waitUntil(() => procState(pid) === 'T', 5, 'the child is stopped');
  const rx = ctx.callAsync((n: number) => n * 2, 21);
  // Without the timeout this get() would wait for ever (the test's timeout is the bound).
  await t.throwsAsync(rx.get({ timeout: 0.5 }), { instanceOf: TimeoutError });
  t.is(procState(pid), 'T', 'the child was stopped all along: it could not have answered');
  // Stopped is not gone: no keepalive declares it dead, and the rest of the tree goes on.
  t.false(ctx.isDisconnected);
  t.is(await other.call(() => 'unaffected'), 'unaffected');
  process.kill(pid, 'SIGCONT');
  t.is((await rx.get({ timeout: 10 })).decode(), 42, 'the reply was not lost');
  t.is(await ctx.call(() => 'awake'), 'awake');
});

test('a stopped child sent more than maxUnsentBytes is disconnected with the reason, not buffered without bound; the master goes on', async (t) => {
  const router = routerFor(t);
  router.maxUnsentBytes = 8 * 2 ** 20;
  const records = collectLogs(t);
  const ctx = await router.local({ name: 'stopped' });
  const other = await router.local();
  const pid = await ctx.call(() => process.pid);
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => { if (pidAlive(pid)) process.kill(pid, 'SIGCONT'); });
  await waitUntil(() => procState(pid) === 'T', 5, 'the child is stopped');
  t.throws(() => { router.maxUnsentBytes = 0; }, { instanceOf: RangeError, message: /maxUnsentBytes must be a positive number of bytes, not 0/ });
  const pending = ctx.call(() => 'never answered while stopped');
  // 12 frames of 900 KiB: more than the pipe and the 8 MiB bound together.
  const payload = new Uint8Array(900 * 1024);
  for (let i = 0; i < 12; i++) ctx.callNoReply((b: Uint8Array) => b.length, payload);
  const err = await t.throwsAsync(pending, { instanceOf: ChannelError });
  t.regex(err!.message, /disconnected/);
  t.true(ctx.isDisconnected);
  await waitUntil(() => records.some((r) => r.level === 'error' && /stopped\S* disconnected: not reading: [\d.]+ MiB unsent, over maxUnsentBytes \(8\.0 MiB\)/.test(r.text)), 5, 'the reason is logged');
  t.is(await other.call(() => 'unaffected'), 'unaffected');
  // Woken, the child finds its stream gone and exits.
  process.kill(pid, 'SIGCONT');
  await waitUntil(() => !pidAlive(pid), 15, 'the woken child exits');
});

test('a child that closes its stdout but lives on: the master sees the stream end, pending calls reject, disconnect is emitted', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const pid = await ctx.call(() => process.pid);
  let aliveAtDisconnect: boolean | undefined;
  const events: RouterEvent[] = [];
  const sub = router.events.subscribe((e) => {
    events.push(e);
    if (e.type === 'disconnect' && e.context === ctx) aliveAtDisconnect = pidAlive(pid);
  });
  t.teardown(() => sub.unsubscribe());
  const pending = ctx.call(() => new Promise(() => {}));
  ctx.callNoReply(() => {
    require('node:fs').closeSync(1);
    // The process lives on (busy, then killed by its own broker 2 s after its parent
    // stream ends): the master must notice the stream, not wait for an exit.
    const end = Date.now() + 10_000;
    while (Date.now() < end) { /* alive, deaf and mute */ }
  });
  const err = await t.throwsAsync(pending, { instanceOf: ChannelError });
  t.regex(err!.message, /disconnected/);
  t.true(events.some((e) => e.type === 'disconnect' && e.context === ctx));
  t.true(aliveAtDisconnect, 'the process was still alive when the master declared it disconnected');
  await t.throwsAsync(ctx.call(() => 1), { instanceOf: ChannelError });
  await waitUntil(() => !pidAlive(pid), 10, 'the child exits once it sees its parent gone');
});

// ---------------------------------------------------------------- junk before the first stage

/** A nodePath: a script that prints `junk` on stdout, then does `then`. */
function junkScript(t: Parameters<typeof routerFor>[0], junk: string, then: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-junk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'node-with-junk');
  writeFileSync(path, `#!/bin/sh\nprintf '${junk}'\n${then}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Text, a line without its newline (the first stage's MITO000 follows on it), bytes
// that are not UTF-8, and a frame's magic: none of it must be taken for a marker or a frame.
const JUNK = 'Welcome to junk-host\\nmotd: \\001\\002\\377\\376 binary\\nMT\\000\\000\\000\\001 looks like a frame\\nno newline at the end';

test('junk printed before the first stage is skipped: the child boots and works', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local({ nodePath: junkScript(t, JUNK, 'exec node "$@"'), connectTimeout: 10 });
  t.is(await ctx.call((a: number, b: number) => a + b, 2, 3), 5);
});

test('a large amount of junk (1 MiB without a newline) before the first stage is skipped too', async (t) => {
  const router = routerFor(t);
  const nodePath = junkScript(t, '', 'head -c 1048576 /dev/zero | tr "\\\\0" x\nexec node "$@"');
  const ctx = await router.local({ nodePath, connectTimeout: 10 });
  t.is(await ctx.call(() => 'booted'), 'booted');
});

test('junk and then an exit fails with EofError quoting the junk', async (t) => {
  const router = routerFor(t);
  const err = await t.throwsAsync(router.local({ nodePath: junkScript(t, JUNK, 'exit 3'), connectTimeout: 10 }), { instanceOf: EofError });
  t.regex(err!.message, /Welcome to junk-host/);
  t.regex(err!.message, /looks like a frame/);
  t.regex(err!.message, /exited with status 3/);
});

test('junk and then silence fails with TimeoutError quoting the junk, bounded by connectTimeout', async (t) => {
  t.timeout(30_000); // without connectTimeout the bootstrap would never end
  const router = routerFor(t);
  const err = await t.throwsAsync(router.local({ nodePath: junkScript(t, JUNK, 'exec cat >/dev/null'), connectTimeout: 1 }), { instanceOf: TimeoutError });
  t.regex(err!.message, /^Failed to setup connection after 1 seconds: .*bootstrap stopped at stage 0/);
  t.regex(err!.message, /Welcome to junk-host/);
  const pid = bootstrapPid(err!.message);
  await waitUntil(() => !pidAlive(pid), 10, `the silent child ${pid} is gone`);
});

// ---------------------------------------------------------------- floods

// Serial: the heap it measures is this worker's, which the file's other tests (a stopped child sent
// more than maxUnsentBytes, 1 MiB of junk) would be filling at the same time.
test.serial('a flood of 50,000 messages to an unknown handle and to a closed Receiver: the master stays responsive, drops are logged', async (t) => {
  const router = routerFor(t);
  const flooder = await router.local({ name: 'flooder' });
  const other = await router.local();
  const closed = new Receiver(router);
  closed.close();
  const UNKNOWN = 987_654;
  const N = 50_000;
  const MAX = 1_000_000; // the flood's bound if it is never told to stop
  let drops = 0;
  const dropped = new RegExp(`no handler for Message\\(0, ${flooder.contextId}, ${flooder.contextId}, (${UNKNOWN}|${closed.handle}),`);
  const sub = logRecords.subscribe((r) => { if (r.level === 'debug' && dropped.test(r.text)) drops++; });
  t.teardown(() => sub.unsubscribe());
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  // Batches of 1000, yielding between them: a sustained flood, at least N long,
  // that goes on until told to stop (or MAX), so calls made meanwhile are made during it.
  let floodOver = false;
  const flood = flooder.call(async (targets: number[], n: number, max: number) => {
    const r = currentRouter()!;
    const g = globalThis as { stopFlood?: boolean };
    let i = 0;
    for (; i < max && (i < n || !g.stopFlood); i++) {
      r.route(Message.encoded(i, { dstId: 0, handle: targets[i % targets.length]! }));
      if (i % 1000 === 999) await new Promise((res) => setImmediate(res));
    }
    return i;
  }, [UNKNOWN, closed.handle], N, MAX).finally(() => { floodOver = true; });
  await waitUntil(() => drops > 0, 30, 'the flood reaches the master');
  // The other child answers while the flood goes on: every call completes, and the flood is still running after it.
  const latencies: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    t.is(await other.call((x: number) => x + 1, k), k + 1);
    latencies.push(performance.now() - t0);
    t.false(floodOver, `call ${k} to another child completed only after the flood`);
  }
  await flooder.call(() => { (globalThis as { stopFlood?: boolean }).stopFlood = true; });
  const sent = await flood;
  t.true(sent >= N && sent < MAX, `${sent} messages sent`);
  await waitUntil(() => drops === sent, 10, 'every message is dropped and logged');
  const worst = Math.max(...latencies);
  // Reported, not asserted: latency is the bench's business; that each call completed during the flood is asserted above.
  t.log(`${sent} messages; 5 calls to another child during the flood, worst ${worst.toFixed(1)} ms`);
  gc?.();
  const grew = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  t.true(grew < 32, `heap grew ${grew.toFixed(1)} MiB`);
  t.is(await flooder.call(() => 'fine'), 'fine');
});

// Serial: its 50,000 debug records load this process, which the concurrent flood test measures responsiveness of.
test.serial('a flood to 50,000 distinct unknown contexts: each is dropped, and the master keeps no record of them', async (t) => {
  const router = routerFor(t);
  const flooder = await router.local();
  const N = 50_000;
  const FIRST = 100_000_000;
  // Each drop is logged at debug level by the master's broker: count them, one per destination.
  const droppedFor = new Map<number, number>();
  const noRoute = new RegExp(`^no route to context (\\d+): dropping message from ${flooder.name} \\(src ${flooder.contextId}, handle 1000\\)`);
  const sub = logRecords.subscribe((r) => {
    const m = r.level === 'debug' ? noRoute.exec(r.text) : null;
    if (m) droppedFor.set(Number(m[1]), (droppedFor.get(Number(m[1])) ?? 0) + 1);
  });
  t.teardown(() => sub.unsubscribe());
  await router.broker.control((api) => api.setDebug(true));
  t.teardown(() => router.broker.control((api) => api.setDebug(false)).catch(() => {}));
  const before = await router.broker.control((api) => api.stats());
  const sent = await flooder.call(async (n: number, first: number) => {
    const r = currentRouter()!;
    for (let i = 0; i < n; i++) {
      r.route(Message.encoded(i, { dstId: first + i, handle: 1000 }));
      if (i % 1000 === 999) await new Promise((res) => setImmediate(res));
    }
    return n;
  }, N, FIRST);
  t.is(sent, N);
  t.is(await flooder.call(() => 'after'), 'after'); // the flood is routed (dropped) by now: same pipe, in order
  await waitUntil(() => droppedFor.size === N, 20, `every message is dropped (${droppedFor.size} so far)`);
  const wrong = [...droppedFor].filter(([id, n]) => n !== 1 || id < FIRST || id >= FIRST + N);
  t.deepEqual(wrong, [], 'each destination dropped exactly once');
  const after = await router.broker.control((api) => api.stats());
  t.is(after.routes, before.routes);
  t.true(after.talkedTo <= before.talkedTo + 1, `talkedTo ${before.talkedTo} -> ${after.talkedTo}`);
});

/** Runs in a child: writes n frames claiming to come from the master (src 0, auth 0) straight onto its stdout. */
function writeForgedFrames(n: number): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const one = Buffer.alloc(26 + 1);
  one.writeUInt16BE(0x4d54, 0);
  [0, 0, 0, 1000, 0, 1].forEach((v, i) => one.writeUInt32BE(v, 2 + 4 * i));
  one[26] = 0xc0; // msgpack nil
  const all = Buffer.concat(Array.from({ length: n }, () => one));
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let off = 0; off < all.length;) {
    try { off += fs.writeSync(1, all, off); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 1); // fd 1 is non-blocking (the broker owns it)
    }
  }
}

test('a flood of forged frames cannot flood the log: at most 1,000 warnings a second, the rest counted in one line', async (t) => {
  const router = routerFor(t);
  const hostile = await router.local();
  const other = await router.local();
  const N = 5000;
  const forged: string[] = [];
  const summaries: number[] = [];
  // Warnings logged in each one-second window: the broker closes a window that suppressed anything with its summary line.
  const runs: number[] = [0];
  const sub = logRecords.subscribe((r) => {
    if (r.level !== 'warn') return;
    if (/bad auth_id: dropping message from local\.\d+ claiming src 0 auth 0/.test(r.text)) { forged.push(r.text); runs[runs.length - 1]!++; }
    const m = /^(\d+) more warnings suppressed in one second/.exec(r.text);
    if (m) { summaries.push(Number(m[1])); runs.push(0); }
  });
  t.teardown(() => sub.unsubscribe());
  await hostile.call(writeForgedFrames, N);
  await waitUntil(() => forged.length + summaries.reduce((a, b) => a + b, 0) === N, 20, 'every forged frame is logged or counted');
  t.true(summaries.length >= 1, 'a summary line counts what was suppressed');
  // Per window, not in total: each window before a summary logged at most the budget.
  t.deepEqual(runs.slice(0, -1).filter((n) => n > 1000), [], `warnings per suppressing window: ${runs.join(', ')}`);
  t.true(runs.at(-1)! <= 1000, `warnings after the last summary: ${runs.at(-1)}`);
  t.true(forged.length < N);
  t.is(await other.call(() => 'unaffected'), 'unaffected');
  t.is(await hostile.call(() => 'still here'), 'still here');
  // The budget is the router's to set: with none, every warning is logged.
  router.maxWarningsPerSecond = Infinity;
  forged.length = 0;
  summaries.length = 0;
  await router.broker.control((api) => api.stats()); // after the setting, on the same control port: it has arrived
  await hostile.call(writeForgedFrames, 2000);
  await waitUntil(() => forged.length === 2000, 20, 'every forged frame is logged');
  t.deepEqual(summaries, []);
});
