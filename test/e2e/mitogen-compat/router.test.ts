// Ported from Mitogen's tests/router_test.py.
import test from 'ava';
import { ChannelError, currentRouter, Latch, Message, MitogenError, Receiver, Router } from '../../../src/index.js';
import type { Context } from '../../../src/index.js';
import { existsSync } from 'node:fs';
import { collectLogs, routerFor, shutdownReaped, waitUntil } from '../../helpers.js';

test('router_test AddHandlerTest.test_cannot_double_register: a handle already registered is refused', (t) => {
  const router = routerFor(t);
  const handle = router.addHandler(() => {});
  t.throws(() => router.addHandler(() => {}, { handle }), { instanceOf: MitogenError, message: /cannot register a handle that already exists/ });
});

test('router_test AddHandlerTest.test_can_reregister: a handle deleted may be registered again', (t) => {
  const router = routerFor(t);
  router.addHandler(() => {}, { handle: 1234 });
  router.delHandler(1234);
  t.notThrows(() => router.addHandler(() => {}, { handle: 1234 }));
  router.delHandler(1234);
});

test('router_test AddHandlerTest.test_dead_message_sent_at_shutdown: broker.shutdown() gives a persistent handler a dead message', async (t) => {
  const router = routerFor(t);
  const latch = new Latch<Message>();
  router.addHandler((m) => latch.put(m)); // persistent, the default
  await router.broker.shutdown();
  t.true((await latch.get({ timeout: 10 })).isDead);
  t.true(router.isShutdown);
});

test('router_test AddHandlerTest.test_dead_message_sent_at_shutdown: a pending get() on a persistent Receiver rejects at router.shutdown()', async (t) => {
  const router = new Router();
  const pending = new Receiver(router).get();
  const second = new Receiver(router, { persist: true });
  const both = [second.get(), second.get()]; // every waiter is woken, not just the first
  await router.shutdown();
  await t.throwsAsync(pending, { instanceOf: ChannelError, message: Router.brokerExitMsg });
  for (const p of both) await t.throwsAsync(p, { instanceOf: ChannelError });
  // Registered after the end: told at once rather than never.
  await t.throwsAsync(new Receiver(router).get(), { instanceOf: ChannelError, message: Router.brokerExitMsg });
});

test('router_test CrashTest.test_shutdown: the broker worker dying wakes every handler with a dead message', async (t) => {
  const router = routerFor(t);
  const latch = new Latch<Message>();
  router.addHandler((m) => latch.put(m));
  await router.broker.worker!.terminate();
  t.true((await latch.get({ timeout: 10 })).isDead);
});

test('router_test MyselfTest.test_myself: myself() is this context', (t) => {
  const router = routerFor(t);
  const me = router.myself();
  t.is(me.contextId, 0);
  t.is(me, router.myself());
  t.is(me.name, 'master'); // Mitogen's is 'self' (its TODO: "context should know its own name")
});

test('router_test PolicyTest.test_allow_any: a Receiver without a policy takes anything', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  recv.toSender().send(123);
  t.is((await recv.get({ timeout: 10 })).decode(), 123);
});

test('router_test PolicyTest.test_refuse_all: a refused message is logged, not delivered, and its reply_to gets a dead message', async (t) => {
  const router = routerFor(t);
  const logs = collectLogs(t);
  const recv = new Receiver(router, { policy: () => false });
  const replyTarget = new Receiver(router);
  router.route(new Message({ dstId: 0, handle: recv.handle, replyTo: replyTarget.handle }));
  await t.throwsAsync(replyTarget.get({ timeout: 10 }), { instanceOf: ChannelError, message: /refused by policy/ });
  t.true(recv.empty());
  t.true(logs.some((r) => /refused by policy/.test(r.text)));
});

test('router_test NoRouteTest.test_invalid_handle_returns_dead: a message to a handle nobody registered gets a dead reply from the target', async (t) => {
  const router = routerFor(t);
  const l1 = await router.local();
  for (let i = 0; i < 2; i++) {
    const recv = l1.sendAsync(new Message({ handle: 999 }));
    const e = await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError });
    t.is(e!.message, `invalid handle 999 in context ${l1.contextId}`);
  }
});

test('router_test NoRouteTest.test_totally_invalid_context_returns_dead: no route to an unknown context', async (t) => {
  const router = routerFor(t);
  const recv = new Receiver(router);
  const msg = (): Message => new Message({ dstId: 1234, handle: 1234, replyTo: recv.handle });
  router.route(msg());
  await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError, message: 'no route to context 1234 from context 0' });
});

test('router_test NoRouteTest.test_previously_alive_context_returns_dead: no route to a context that has shut down', async (t) => {
  const router = routerFor(t);
  const l1 = await router.local();
  await l1.shutdown({ wait: true });
  const recv = new Receiver(router);
  router.route(new Message({ dstId: l1.contextId, handle: 101, replyTo: recv.handle }));
  await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError, message: `no route to context ${l1.contextId} from context 0` });
});

test('router_test MessageSizeTest.test_local_dead_message: a call over maxMessageSize fails with ChannelError naming the limit', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 4096;
  const logs = collectLogs(t);
  const child = await router.local();
  await t.throwsAsync(child.call((s: string) => s.length, ' '.repeat(8192)), { instanceOf: ChannelError, message: /message too large.*\(max 4096 bytes\)/ });
  t.true(logs.some((r) => /\(max 4096 bytes\)/.test(r.text)));
});

test('router_test MessageSizeTest.test_remote_dead_message: an oversized send with no reply_to wakes its receiver with a dead message', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 4096;
  const recv = new Receiver(router);
  recv.toSender().send('x'.repeat(4097));
  await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError, message: /\(max 4096 bytes\)/ });
});

test('router_test MessageSizeTest.test_remote_configured: a child inherits maxMessageSize', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 64 * 1024;
  const remote = await router.local();
  t.is(await remote.call(() => currentRouter()!.maxMessageSize), 64 * 1024);
});

test('router_test MessageSizeTest.test_remote_of_remote_configured: a grandchild inherits maxMessageSize', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 64 * 1024;
  const remote = await router.local();
  const remote2 = await router.local({ via: remote });
  t.is(await remote2.call(() => currentRouter()!.maxMessageSize), 64 * 1024);
});

test('router_test MessageSizeTest.test_remote_exceeded: a child refuses to send past the inherited limit, and the receiver is told', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 64 * 1024;
  const recv = new Receiver(router);
  const logs = collectLogs(t);
  const remote = await router.local();
  t.is(await remote.call((s: { send(x: unknown): void }, n: number) => { s.send(' '.repeat(n)); return 123; }, recv.toSender(), 128 * 1024), 123);
  await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError, message: /\(max 65536 bytes\)/ });
  t.true(logs.some((r) => /\(max 65536 bytes\)/.test(r.text)));
});

/** Run in a context: asks `callee` to ping `target` (a sibling), returning what it threw. */
function siblingsCantTalk(): Promise<{ message: string; l1: number; l2: number; uni: boolean }> {
  return (async () => {
    const r = currentRouter()!;
    const l1 = await r.local();
    const l2 = await r.local();
    try {
      await l2.call((other: Context) => other.call(() => true), l1);
      return { message: 'no error', l1: l1.contextId, l2: l2.contextId, uni: r.unidirectional };
    } catch (e) {
      return { message: (e as Error).message, l1: l1.contextId, l2: l2.contextId, uni: r.unidirectional };
    }
  })();
}

test('router_test UnidirectionalTest.test_siblings_cant_talk_master: the master refuses to route between its children', async (t) => {
  const router = routerFor(t);
  router.unidirectional = true;
  const logs = collectLogs(t);
  const l1 = await router.local();
  const l2 = await router.local();
  const e = await t.throwsAsync(l2.call((other: Context) => other.call(() => true), l1));
  t.regex(e!.message, new RegExp(`unidirectional routing refuses messages between child contexts \\(${l2.contextId} -> ${l1.contextId}\\)`));
  t.true(logs.some((r) => /unidirectional: refusing message/.test(r.text)));
});

test('router_test UnidirectionalTest.test_siblings_cant_talk_parent: a child started by a unidirectional router is unidirectional too', async (t) => {
  const router = routerFor(t);
  router.unidirectional = true;
  const parent = await router.local();
  t.true(await parent.call(() => currentRouter()!.unidirectional));
  const got = await parent.call(siblingsCantTalk);
  t.true(got.uni);
  t.regex(got.message, new RegExp(`unidirectional routing refuses messages between child contexts \\(${got.l2} -> ${got.l1}\\)`));
});

test('router_test UnidirectionalTest (ours): the connect option overrides the inherited default', async (t) => {
  const router = routerFor(t);
  router.unidirectional = true;
  const parent = await router.local({ unidirectional: false });
  t.false(await parent.call(() => currentRouter()!.unidirectional));
  const got = await parent.call(siblingsCantTalk);
  t.notRegex(got.message, /unidirectional/);
});

test('router_test ShutdownTest.test_shutdown_wait_true: after shutdown({ wait: true }) the process is gone and calls find no route', async (t) => {
  const router = routerFor(t);
  const l1 = await router.local();
  // As Mitogen's test, which waits for the process's exit event before checking it was reaped.
  const pid = await shutdownReaped(l1);
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  await t.throwsAsync(l1.call(() => process.pid), { instanceOf: ChannelError });
});

test('router_test ShutdownTest.test_shutdown_wait_false: after shutdown() and the disconnect, calls fail with ChannelError', async (t) => {
  const router = routerFor(t);
  const l1 = await router.local();
  await l1.call(() => process.pid);
  await l1.shutdown();
  await l1.disconnected();
  await t.throwsAsync(l1.call(() => process.pid), { instanceOf: ChannelError });
});

test('router_test ShutdownTest.test_disconnect_all: router.shutdown() ends every child', async (t) => {
  const router = new Router();
  const [l1, l2] = [await router.local(), await router.local()];
  const pids = [await l1.call(() => process.pid), await l2.call(() => process.pid)];
  await router.shutdown();
  await waitUntil(() => pids.every((pid) => !existsSync(`/proc/${pid}`)), 10, 'both processes are reaped');
  for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  for (const ctx of [l1, l2]) {
    t.true(ctx.isDisconnected);
    await t.throwsAsync(ctx.call(() => 1), { instanceOf: ChannelError });
  }
});

test('router_test via naming (ssh_test SshMixin.test_via_stream_name): a context built through another is named <via name>.<name>', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const b = await router.local({ via: a });
  const bPid = await b.call(() => process.pid);
  t.is(b.name, `${a.name}.local.${bPid}`);
  const c = await router.local({ via: b, name: 'leaf' });
  t.is(c.name, `${a.name}.local.${bPid}.leaf`);
  t.is(router.contextById(c.contextId)!.name, c.name);
  // Inside, a context knows itself by its own name, as in Mitogen.
  t.is(await c.call(() => currentRouter()!.name), 'leaf');
});

/** Run in a child: sends two frames straight to its broker, a forged one with these ids, then an honest one. */
function forgeThenHonest(handle: number, srcId: number, authId: number): void {
  const r = currentRouter()!;
  const forged = Message.encoded('forged', { dstId: 0, handle });
  forged.srcId = srcId;
  forged.authId = authId;
  r.broker.send(forged.toFrame());
  r.broker.send(Message.encoded('honest', { dstId: 0, handle, srcId: r.myId, authId: r.myId }).toFrame());
}

for (const [name, ids] of [
  ['test_bad_auth_id: a frame whose auth_id belongs to another child', (me: number, other: number) => [other, other]],
  ['test_bad_src_id: a frame with its own auth_id but another child\'s src_id', (me: number, other: number) => [other, me]],
] as const) {
  test(`router_test SourceVerifyTest.${name} is dropped and logged`, async (t) => {
    const router = routerFor(t);
    const child1 = await router.local();
    const child2 = await router.local();
    const logs = collectLogs(t);
    const recv = new Receiver(router);
    const [srcId, authId] = ids(child1.contextId, child2.contextId);
    await child1.call(forgeThenHonest, recv.handle, srcId, authId);
    // Frames from one stream arrive in order: once the honest one is here, the forged one was dropped, not delayed.
    t.is((await recv.get({ timeout: 10 })).decode(), 'honest');
    t.true(recv.empty());
    t.true(logs.some((r) => r.text.includes(`bad auth_id: dropping message from ${child1.name} claiming src ${srcId} auth ${authId}`)));
  });
}

test('router_test MessageSizeTest.test_local_exceeded: an oversized message with no reply_to is refused and logged', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 4096;
  const logs = collectLogs(t);
  router.route(Message.encoded(' '.repeat(8192), { dstId: 1234, handle: 1234 }));
  t.true(logs.some((r) => /message too large: \d+ bytes exceeds maxMessageSize 4096 bytes \(max 4096 bytes\)/.test(r.text)));
});

test('router_test ShutdownTest.test_disconnect_invalid_context: shutting down a context that never existed is harmless', async (t) => {
  const router = routerFor(t);
  await t.notThrowsAsync(router.contextFor(1234).shutdown());
  t.is(await (await router.local()).call(() => 'router still fine'), 'router still fine');
});
