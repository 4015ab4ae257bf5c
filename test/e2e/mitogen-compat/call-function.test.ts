// Ported from Mitogen's tests/call_function_test.py. Functions travel by source here (Mitogen sends
// a module and a name), so the cases about which callables can be named differ: see the README.
import test from 'ava';
import { CallError, ChannelError, Context, Receiver, Router, Sender } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('call_function_test CallFunctionTest.test_succeeds', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  t.is(await local.call((x: number, y: number) => x + y, 1, 2), 3);
});

test('call_function_test CallFunctionTest.test_succeeds_class_method: a static method, sent by source with its class', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  // A method body cannot see its class once sent: the class goes along inside the function.
  t.is(await local.call((x: number, y: number) => {
    class TargetClass { static offset = 100; static addNumbersWithOffset(a: number, b: number): number { return this.offset + a + b; } }
    return TargetClass.addNumbersWithOffset(x, y);
  }, 1, 2), 103);
});

test('call_function_test CallFunctionTest.test_crashes: CallError names the thrown class and message, with the remote stack', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const e = await t.throwsAsync(local.call(() => { class MyError extends Error {} throw new MyError('exception text'); }), { instanceOf: CallError });
  t.is(e!.type, 'MyError');
  t.is(e!.message, 'MyError: exception text');
  t.true((e!.remoteStack ?? '').length > 0);
});

test('call_function_test CallFunctionTest.test_bad_return_value: a value that cannot travel fails the call, naming its type', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  // Mitogen: StreamError "cannot unpickle ..." at the caller; here the child cannot encode it and says so.
  await t.throwsAsync(local.call(() => { class CrazyType {} return new CrazyType(); }), { instanceOf: CallError, message: /cannot send a value of type CrazyType/ });
});

test('call_function_test CallFunctionTest.test_aborted_on_local_context_disconnect: a pending call fails with ChannelError when the child dies', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const pid = await local.call(() => process.pid);
  const recv = local.callAsync(() => new Promise(() => {}));
  process.kill(pid, 'SIGKILL');
  await t.throwsAsync(recv.get(), { instanceOf: ChannelError, message: /^the respondent context .* has disconnected$/ });
});

test('call_function_test CallFunctionTest.test_aborted_on_local_broker_shutdown: a pending call fails with ChannelError at shutdown', async (t) => {
  const router = new Router();
  const local = await router.local();
  const recv = local.callAsync(() => new Promise(() => {}));
  await router.broker.shutdown();
  await t.throwsAsync(recv.get(), { instanceOf: ChannelError });
  await router.shutdown();
});

test('call_function_test CallFunctionTest.test_accepts_returns_context: a Context comes back as the same object', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const ctx = await local.call((c: Context) => c, local);
  t.is(ctx, local);
  t.is(ctx.name, local.name);
});

test('call_function_test CallFunctionTest.test_accepts_returns_sender: a Sender goes there, is used, and comes back', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const recv = new Receiver(router);
  const sender = recv.toSender();
  const sender2 = await local.call((s: Sender) => { s.send(123); s.close(); return s; }, sender);
  t.is(sender2.context.contextId, sender.context.contextId);
  t.is(sender2.dstHandle, sender.dstHandle);
  t.is((await recv.get({ timeout: 10 })).decode(), 123);
  await t.throwsAsync(recv.get({ timeout: 10 }), { instanceOf: ChannelError });
});

test('call_function_test UnsupportedCallablesTest.test_closures_unsuppored: a closure\'s free variable is not sent; the call fails naming it', async (t) => {
  const router = routerFor(t);
  const local = await router.local();
  const a = 1;
  // Mitogen refuses a closure before sending (TypeError); source cannot be checked so, so the child reports it.
  await t.throwsAsync(local.call(() => a), { instanceOf: CallError, message: 'ReferenceError: a is not defined' });
});
