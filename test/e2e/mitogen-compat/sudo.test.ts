// Ported from Mitogen's tests/sudo_test.py (ConstructorTest, with its stub sudo).
import test from 'ava';
import { StreamError } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';
import { envOf, originalArgv, stub } from './stubs.js';

// Mitogen passes `-p mitogen-sudo-prompt:`; we recognise sudo's own prompt in any translation instead, so there is no -p.
test('sudo_test ConstructorTest.test_basic: sudo -u root --', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: stub('sudo') });
  t.deepEqual((await originalArgv(ctx)).slice(0, 4), [stub('sudo'), '-u', 'root', '--']);
  t.is(await envOf(ctx, 'THIS_IS_STUB_SUDO'), '1');
  t.is(ctx.name, 'sudo.root');
});

test('sudo_test ConstructorTest.test_selinux_type_role: -r ROLE -t TYPE', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: stub('sudo'), selinuxType: 'setype', selinuxRole: 'serole' });
  t.deepEqual((await originalArgv(ctx)).slice(0, 8), [stub('sudo'), '-u', 'root', '-r', 'serole', '-t', 'setype', '--']);
});

test('sudo_test ConstructorTest.test_reparse_args: sudoArgs long options are parsed into the same argv', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: stub('sudo'), sudoArgs: ['--type', 'setype', '--role', 'serole', '--user', 'user'] });
  t.deepEqual((await originalArgv(ctx)).slice(0, 8), [stub('sudo'), '-u', 'user', '-r', 'serole', '-t', 'setype', '--']);
  t.is(ctx.name, 'sudo.user');
});

test('sudo_test (ours): sudoArgs flags -E -H -i and attached values; an unknown option is a StreamError naming it', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: stub('sudo'), sudoArgs: ['-EH', '-ubob', '--login'] });
  t.deepEqual((await originalArgv(ctx)).slice(0, 7), [stub('sudo'), '-u', 'bob', '-E', '-H', '-i', '--']);
  await t.throwsAsync(router.sudo({ sudoPath: stub('sudo'), sudoArgs: ['--chroot=/x'] }), { instanceOf: StreamError, message: /unsupported sudo option "--chroot=\/x"/ });
});
