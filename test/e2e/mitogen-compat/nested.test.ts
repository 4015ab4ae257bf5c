// Ported from Mitogen's tests/nested_test.py.
import test from 'ava';
import type { Context } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('nested_test NestedTest.test_nested: ten contexts deep, each via the one before', async (t) => {
  const router = routerFor(t);
  let context: Context | undefined;
  const pids: number[] = [];
  for (let x = 1; x <= 10; x++) {
    context = await router.local({ via: context, name: `local${x}` });
    pids.push(await context.call(() => process.ppid));
  }
  t.true(Number.isInteger(await context!.call(() => process.pid)));
  t.is(context!.name, Array.from({ length: 10 }, (_, i) => `local${i + 1}`).join('.'));
  t.is(pids[0], process.pid);
});
