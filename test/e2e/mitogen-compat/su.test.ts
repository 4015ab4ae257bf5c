// Ported from Mitogen's tests/su_test.py (ConstructorTest and the slow-failure case, with its stub su).
import test from 'ava';
import { PasswordError } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';
import { envOf, originalArgv, stub } from './stubs.js';

test('su_test ConstructorTest.test_basic: su root -c CMD', async (t) => {
  const router = routerFor(t);
  const ctx = await router.su({ suPath: stub('su') });
  const argv = await originalArgv(ctx);
  t.is(argv[1], 'root');
  t.is(argv[2], '-c');
  t.is(await envOf(ctx, 'THIS_IS_STUB_SU'), '1');
  t.is(ctx.name, 'su.root');
});

test('su_test SuMixin.test_slow_auth_failure: a failure written in two pieces is still seen as a refused password', async (t) => {
  const router = routerFor(t);
  // The environment is given on the command: the broker thread that starts su took its copy of process.env long ago.
  const e = await t.throwsAsync(router.su({ suPath: ['env', 'DO_SLOW_AUTH_FAILURE=1', stub('su')], password: 'x', connectTimeout: 20 }), { instanceOf: PasswordError });
  t.regex(e!.message, /Authentication failure/);
});
