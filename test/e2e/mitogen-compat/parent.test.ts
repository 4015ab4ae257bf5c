// Ported from Mitogen's tests/parent_test.py.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { ChannelError, currentRouter, EofError, Message, Receiver, StreamError, TimeoutError } from '../../../src/index.js';
import type { Context, Router, Sender } from '../../../src/index.js';
import { defaultRemoteName } from '../../../src/runtime/router.js';
import { grandchildFor, pidAlive, routerFor, shutdownReaped, waitUntil } from '../../helpers.js';

/** Pids whose argv contains `marker`. */
function pidsWith(marker: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(marker); } catch { return false; }
  }).map(Number);
}

test('parent_test ReapChildTest.test_connect_timeout: a child that never answers fails with TimeoutError and is reaped', async (t) => {
  const router = routerFor(t);
  const marker = `never-responds-${process.pid}`;
  await t.throwsAsync(router.local({ nodePath: ['sh', '-c', 'exec sleep 60', marker], connectTimeout: 1 }), { instanceOf: TimeoutError });
  await waitUntil(() => pidsWith(marker).every((p) => !pidAlive(p)), 10, 'the child that never answered is gone');
  t.deepEqual(pidsWith(marker).filter(pidAlive), []);
});

test('parent_test StreamErrorTest.test_direct_eof: an interpreter that exits at once is EofError (a StreamError)', async (t) => {
  const router = routerFor(t);
  const e = await t.throwsAsync(router.local({ nodePath: 'true', connectTimeout: 3 }), { instanceOf: EofError });
  t.true(e instanceof StreamError);
  t.true(e!.message.startsWith('EOF on stream; last 100 lines received:'));
});

test('parent_test StreamErrorTest.test_via_eof: likewise through an intermediary', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const e = await t.throwsAsync(router.local({ via: local, nodePath: 'echo', connectTimeout: 3 }), { instanceOf: StreamError });
  t.true(e!.message.includes('EOF on stream; last 100 lines received:'));
  t.is(await local.call(() => 'still here'), 'still here');
});

test('parent_test StreamErrorTest.test_direct_enoent: a missing interpreter is a StreamError saying so', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.local({ nodePath: 'derp', connectTimeout: 3 }), { instanceOf: StreamError, message: /could not start derp: no such file or directory/ });
});

test('parent_test StreamErrorTest.test_via_enoent: likewise through an intermediary', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  await t.throwsAsync(router.local({ via: local, nodePath: 'derp', connectTimeout: 3 }), { instanceOf: StreamError, message: /could not start derp: no such file or directory/ });
});

test('parent_test ContextTest.test_context_shutdown: shutdown({ wait: true }) leaves no process', async (t) => {
  const router = routerFor(t);
  // Mitogen's test waits for the child (wait_for_child) before checking it is gone.
  const pid = await shutdownReaped(await router.local());
  t.false(pidAlive(pid));
});

const RESPONDENT_GONE = /^the respondent context .* has disconnected$/;
const sleepForever = (): Promise<never> => new Promise(() => {});

/** A call pending in `callee` fails with RESPONDENT_GONE once `goes` (the callee, or a context on its way) has shut down. */
async function pendingCallFailsWhenGone(t: ExecutionContext, callee: Context, goes: Context): Promise<void> {
  const recv = callee.callAsync(sleepForever);
  await goes.shutdown({ wait: true });
  await t.throwsAsync(recv.get(), { instanceOf: ChannelError, message: RESPONDENT_GONE });
}

test('parent_test DisconnectTest.test_child_disconnected: a pending call fails when its child goes', async (t) => {
  const c1 = await routerFor(t).local();
  await pendingCallFailsWhenGone(t, c1, c1);
});

test('parent_test DisconnectTest.test_indirect_child_disconnected: likewise for a grandchild', async (t) => {
  const { grandchild: c2 } = await grandchildFor(t);
  await pendingCallFailsWhenGone(t, c2, c2);
});

test('parent_test DisconnectTest.test_indirect_child_intermediary_disconnected: likewise when the intermediary goes', async (t) => {
  const { child: c1, grandchild: c2 } = await grandchildFor(t);
  await pendingCallFailsWhenGone(t, c2, c1);
});

/**
 * Run in a context: waits on a Receiver whose respondent is `other`, after
 * sending `other` one message (so the routers on the way know it talks to
 * it), and says on `sync` that it is waiting. Mitogen's call_func_in_sibling
 * calls a function in the sibling; here siblings may not call each other (a
 * context takes calls from its ancestors only), so it waits on a channel.
 */
async function waitOnSibling(other: Context, sync: Sender): Promise<string> {
  const rx = new Receiver(currentRouter()!, { respondent: other });
  other.send(new Message({ handle: 999 }));
  sync.send('waiting');
  try {
    await rx.get({ timeout: 30 }); // a bound, so a missed disconnect fails rather than hangs
    return 'a message arrived';
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** `waiter` waits on `other` (waitOnSibling); once it says so, `other` shuts down, and the wait ends with ChannelError. */
async function noticesSiblingGone(t: ExecutionContext, router: Router, waiter: Context, other: Context): Promise<void> {
  const sync = new Receiver(router);
  const result = waiter.call(waitOnSibling, other, sync.toSender());
  await sync.get({ timeout: 20 });
  await other.shutdown({ wait: true });
  t.regex(await result, /^ChannelError: the respondent context .* has disconnected$/);
}

test('parent_test DisconnectTest.test_near_sibling_disconnected: a child notices its sibling has gone', async (t) => {
  const router = routerFor(t);
  const c1 = await router.local({ name: 'c1' });
  const c2 = await router.local({ name: 'c2' });
  await noticesSiblingGone(t, router, c1, c2);
});

test('parent_test DisconnectTest.test_far_sibling_disconnected: a grandchild notices a grandchild on another branch has gone', async (t) => {
  const router = routerFor(t);
  const c1 = await router.local({ name: 'c1' });
  const c11 = await router.local({ name: 'c11', via: c1 });
  const c2 = await router.local({ name: 'c2' });
  const c22 = await router.local({ name: 'c22', via: c2 });
  await noticesSiblingGone(t, router, c11, c22);
});

test('parent_test GetDefaultRemoteNameTest.test_slashes: <user>@<host>:<pid>, slashes made underscores; a child\'s title is mitogen:<that>', async (t) => {
  t.is(defaultRemoteName('ECORP\\Administrator', 'box', 123), 'ECORP_Administrator@box:123');
  t.is(defaultRemoteName('a/b', 'box', 1), 'a_b@box:1');
  const router = routerFor(t);
  const local = await router.local();
  t.is(await local.call(() => process.title), `mitogen:${defaultRemoteName()}`);
});

test('parent_test ReturncodeToStrTest: a child that dies in the bootstrap is described by its exit status or signal', async (t) => {
  const router = routerFor(t);
  // Mitogen: "exited with return code N", "exited due to signal 9 (SIGKILL)"; ours name the command too.
  for (const [nodePath, how] of [[['true'], 'true exited with status 0'], [['false'], 'false exited with status 1'], [['sh', '-c', 'kill -9 $$'], 'sh killed by SIGKILL']] as const) {
    const e = await t.throwsAsync(router.local({ nodePath: [...nodePath], connectTimeout: 5 }), { instanceOf: EofError });
    t.true(e!.message.includes(how), e!.message);
  }
});
