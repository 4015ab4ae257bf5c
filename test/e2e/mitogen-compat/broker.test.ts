// Ported from Mitogen's tests/broker_test.py. Mitogen's defer()/defer_sync() run code on the broker
// thread; ours is a worker that runs only its own code, so what carries over is shutdown.
import test from 'ava';
import { Broker, MitogenError, Router } from '../../../src/index.js';

test('broker_test ShutdownTest.test_poller_closed: shutdown() ends the worker, once, however often it is called', async (t) => {
  const broker = new Broker();
  const router = new Router(broker);
  let exits = 0;
  broker.worker!.on('exit', () => exits++);
  await Promise.all([broker.shutdown(), broker.shutdown(), router.shutdown()]);
  await broker.shutdown();
  t.true(broker.isShutdown);
  t.is(exits, 1);
});

test('broker_test DeferTest.test_defer_after_shutdown: using a shut broker throws a MitogenError, not a hang', async (t) => {
  const router = new Router();
  await router.shutdown();
  await t.throwsAsync(router.broker.control((api) => api.allocateId()), { instanceOf: MitogenError, message: 'the broker has shut down' });
  await t.throwsAsync(router.local(), { instanceOf: MitogenError, message: /the router has shut down/ });
});
