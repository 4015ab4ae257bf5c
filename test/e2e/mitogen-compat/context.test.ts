// Ported from Mitogen's tests/context_test.py. Plain pickle does not apply; the wire round trip does.
import test from 'ava';
import { Context, Receiver } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('context_test PickleTest.test_mitogen_roundtrip: a Context sent through a channel comes back with its id and name', async (t) => {
  const router = routerFor(t);
  const c = await router.local();
  const r = new Receiver(router);
  r.toSender().send(c);
  const c2 = (await r.get({ timeout: 10 })).decode() as Context;
  t.true(c2 instanceof Context);
  t.is(c2.contextId, c.contextId);
  t.is(c2.name, c.name);
  // Mitogen's copy has no router; ours is the router's one Context for that id, usable at once.
  t.is(c2, c);
  t.is(await c2.call(() => 'usable'), 'usable');
});
