// Ported from Mitogen's tests/doas_test.py (ConstructorTest, with its stub doas).
import test from 'ava';
import { routerFor } from '../../helpers.js';
import { envOf, originalArgv, stub } from './stubs.js';

test('doas_test ConstructorTest.test_okay: doas -u USER --', async (t) => {
  const router = routerFor(t);
  const ctx = await router.doas({ doasPath: stub('doas'), username: 'someuser' });
  t.deepEqual((await originalArgv(ctx)).slice(0, 4), [stub('doas'), '-u', 'someuser', '--']);
  t.is(await envOf(ctx, 'THIS_IS_STUB_DOAS'), '1');
  t.is(ctx.name, 'doas.someuser');
});
