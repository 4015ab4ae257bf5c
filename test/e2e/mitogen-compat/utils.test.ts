// Ported from Mitogen's tests/utils_test.py. CastTest does not apply: there are no str/dict
// subclasses to flatten before pickling (msgpack sends plain values; class instances are refused).
import test from 'ava';
import { Router, runWithRouter, withRouter } from '../../../src/index.js';

test('utils_test RunWithRouterTest.test_run_with_broker: fn gets a Router, which is shut down after', async (t) => {
  const router = await runWithRouter((r) => r);
  t.true(router instanceof Router);
  t.true(router.isShutdown);
  t.true(router.broker.isShutdown);
});

test('utils_test RunWithRouterTest (shutdown on exception): the router is shut down when fn throws', async (t) => {
  let seen: Router | undefined;
  await t.throwsAsync(runWithRouter((r) => { seen = r; throw new Error('boom'); }), { message: 'boom' });
  t.true(seen!.isShutdown);
});

test('utils_test WithRouterTest.test_with_broker: the wrapped function gets a Router, shut down after', async (t) => {
  const func = withRouter((router: Router, x: number) => ({ router, x }));
  const { router, x } = await func(5);
  t.true(router instanceof Router);
  t.is(x, 5);
  t.true(router.isShutdown);
});
