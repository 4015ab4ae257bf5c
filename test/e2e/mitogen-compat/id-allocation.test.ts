// Ported from Mitogen's tests/id_allocation_test.py.
import test from 'ava';
import { currentRouter } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('id_allocation_test SlaveTest.test_slave_allocates_id: a child leases a block of ids; the master\'s next id is past it', async (t) => {
  const router = routerFor(t);
  const context = await router.local();
  t.is(context.contextId, 1);
  // A child has no public allocate_id: it allocates by starting a context of its own.
  const startOne = async (): Promise<number> => (await currentRouter()!.local()).contextId;
  t.is(await context.call(startOne), 2);
  t.is(await context.call(startOne), 3);
  const c2 = await router.local();
  t.is(c2.contextId, 1002);
});
