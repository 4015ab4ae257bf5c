/**
 * ctx.callWith against real contexts: the caller's timeout or AbortSignal
 * reaches the called function as an aborted signal (reported back through a
 * Sender), the caller gets a typed error naming the context and the
 * function, and the late reply is counted as dropped, delivered to nobody.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CallError, CancelledError, currentCall, fakessh, Receiver, TimeoutError } from '../../src/index.js';
import type { Context, Router, Sender } from '../../src/index.js';
import { routerFor, waitUntil } from '../helpers.js';

/** Runs in the context: reports that it started, waits for its signal, reports why it aborted, then returns late. */
async function waitForAbort(tx: Sender): Promise<string> {
  const { signal } = currentCall();
  tx.send(['started', signal.aborted]);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const reason = signal.reason as Error;
  tx.send(['aborted', reason.name, reason.message]);
  return 'the late result';
}

const body = async (rx: Receiver): Promise<unknown> => (await rx.get({ timeout: 30 })).decode();

/** A round trip after the late reply: the context sent that reply first, so it has arrived by now. */
const flush = (ctx: Context): Promise<number> => ctx.call(() => 7);

async function setUp(t: Parameters<typeof routerFor>[0]): Promise<{ router: Router; ctx: Context; rx: Receiver }> {
  const router = routerFor(t);
  const ctx = await router.local();
  const rx = new Receiver(router);
  t.teardown(() => rx.close());
  return { router, ctx, rx };
}

test('a timeout rejects with TimeoutError naming the context and the function; the function sees its signal abort; the late reply is dropped', async (t) => {
  const { router, ctx, rx } = await setUp(t);
  const call = ctx.callWith({ timeout: 0.5 }, waitForAbort, rx.toSender());
  t.deepEqual(await body(rx), ['started', false]);
  // The function's report first: a bounded wait, where the call itself would wait for ever were the deadline ignored.
  const aborted = await body(rx);
  const e = await t.throwsAsync(call, { instanceOf: TimeoutError });
  t.is(e!.message, `call to waitForAbort() in ${ctx.name} timed out after 0.5 s`);
  t.deepEqual(aborted, ['aborted', 'TimeoutError', e!.message]);
  t.is(await flush(ctx), 7, 'the next call gets its own result, not the late one');
  t.is(router.lateRepliesDropped, 1);
});

test('aborting the signal rejects with CancelledError (with the reason), aborts the function two hops away, and drops its late reply', async (t) => {
  const { router, ctx, rx } = await setUp(t);
  const beyond = await router.local({ via: ctx });
  const controller = new AbortController();
  const call = beyond.callWith({ signal: controller.signal }, waitForAbort, rx.toSender());
  t.deepEqual(await body(rx), ['started', false]);
  controller.abort('the operator pressed ^C');
  const e = await t.throwsAsync(call, { instanceOf: CancelledError });
  t.is(e!.message, `call to waitForAbort() in ${beyond.name} was cancelled: the operator pressed ^C`);
  t.deepEqual(await body(rx), ['aborted', 'CancelledError', e!.message]);
  t.is(await flush(beyond), 7);
  t.is(router.lateRepliesDropped, 1);
});

test('a call that answers in time resolves, drops nothing, and its signal never aborts; a signal aborted already is refused unsent', async (t) => {
  const { router, ctx } = await setUp(t);
  const controller = new AbortController();
  const r = await ctx.callWith({ timeout: 60, signal: controller.signal }, async (x: number) => {
    const { signal } = currentCall();
    await new Promise((resolve) => setImmediate(resolve));
    return [x * 2, signal.aborted];
  }, 21);
  t.deepEqual(r, [42, false]);
  controller.abort();
  const pid = await ctx.call(() => process.pid);
  await t.throwsAsync(ctx.callWith({ signal: controller.signal }, (p: number) => process.kill(p, 'SIGKILL'), pid), { instanceOf: CancelledError, message: /anonymous function.*cancelled before it was sent/ });
  t.is(await flush(ctx), 7, 'the refused call never ran (it would have killed the context)');
  t.is(router.lateRepliesDropped, 0);
});

test('currentCall() after the first await is a clear error, not another call\'s signal', async (t) => {
  const { ctx } = await setUp(t);
  const e = await t.throwsAsync(ctx.call(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return currentCall().signal.aborted;
  }), { instanceOf: CallError });
  t.regex(e!.message, /only valid in the synchronous part/);
});

test('router.callTimeout: off by default; set, it bounds every ctx.call; Infinity opts one call out; bad values are refused', async (t) => {
  const { router, ctx, rx } = await setUp(t);
  t.is(router.callTimeout, undefined);
  router.callTimeout = 0.5;
  const call = ctx.call(waitForAbort, rx.toSender());
  t.deepEqual(await body(rx), ['started', false]);
  const aborted = await body(rx);
  const e = await t.throwsAsync(call, { instanceOf: TimeoutError });
  t.is(e!.message, `call to waitForAbort() in ${ctx.name} timed out after 0.5 s`);
  t.deepEqual(aborted, ['aborted', 'TimeoutError', e!.message]);
  t.is(await flush(ctx), 7);
  t.is(router.lateRepliesDropped, 1);
  const controller = new AbortController();
  const unbounded = ctx.callWith({ timeout: Infinity, signal: controller.signal }, waitForAbort, rx.toSender());
  t.deepEqual(await body(rx), ['started', false]);
  // Had the router's 0.5 s applied, this would be the TimeoutError: the call is still waiting when we cancel it.
  await flush(ctx);
  controller.abort();
  await t.throwsAsync(unbounded, { instanceOf: CancelledError });
  t.deepEqual((await body(rx) as unknown[])[1], 'CancelledError');
  t.throws(() => { router.callTimeout = -1; }, { instanceOf: RangeError, message: /callTimeout must be a number of seconds/ });
  await t.throwsAsync(ctx.callWith({ timeout: Number.NaN }, () => 1), { instanceOf: RangeError });
});

/** Writes `text` into a fifo once its reader has it open (polled, bounded: a blocking open could hang the suite). */
async function feedFifo(fifo: string, text: string): Promise<void> {
  let fd: number | undefined;
  await waitUntil(() => {
    try {
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') return false; // no reader yet
      throw e;
    }
  }, 30, `a reader opens ${fifo}`);
  writeSync(fd!, text);
  closeSync(fd!);
}

test('router.callTimeout does not cut short what lasts by nature: a fakessh command and a spawned process outlive it', async (t) => {
  const { router, ctx, rx } = await setUp(t);
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-deadline-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [gateA, gateB] = [join(dir, 'a'), join(dir, 'b')];
  execFileSync('mkfifo', [gateA, gateB]);
  router.callTimeout = 0.5;
  // Both wait on a fifo that is fed only after a 0.5 s call made later has timed out (timers of one length fire in order).
  const marker = join(dir, 'running');
  const remote = fakessh.run(ctx, ['ssh', 'target', `touch ${marker}; cat ${gateA}`]);
  await waitUntil(() => existsSync(marker), 30, 'the fakessh command runs');
  const proc = ctx.spawn(`cat ${gateB}`);
  const procOut = proc.lines('stdout').subscribe();
  const bounded = ctx.call(waitForAbort, rx.toSender());
  t.deepEqual(await body(rx), ['started', false]);
  t.deepEqual((await body(rx) as unknown[]).slice(0, 2), ['aborted', 'TimeoutError']);
  await t.throwsAsync(bounded, { instanceOf: TimeoutError });
  await feedFifo(gateA, 'opened\n');
  await feedFifo(gateB, 'opened\n');
  t.like(await remote, { code: 0, stdout: 'opened\n' });
  t.deepEqual(await proc.exit, { code: 0, signal: null });
  procOut.unsubscribe();
});
