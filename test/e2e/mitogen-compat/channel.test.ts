// Ported from Mitogen's tests/channel_test.py.
import test from 'ava';
import { Channel } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('channel_test ConstructorTest.test_constructor: a Channel knows its router, context, dstHandle and its own handle', async (t) => {
  const router = routerFor(t);
  const l1 = await router.local();
  const chan = new Channel(router, l1, 123);
  t.is(chan.router, router);
  t.is(chan.context, l1);
  t.is(chan.dstHandle, 123);
  t.true(chan.handle > 0);
});
