// Ported from Mitogen's tests/ssh_test.py: the stub-ssh cases, and the stream names against the test bed's sshd.
import test from 'ava';
import { HostKeyError, PasswordError, StreamError } from '../../../src/index.js';
import type { SshOptions } from '../../../transports/ssh.js';
import { routerFor } from '../../helpers.js';
import { asUser1, host } from '../../testbed.js';
import { envOf, stub } from './stubs.js';

/** Options for an ssh through the stub; `mode` is STUBSSH_MODE, given on the command (the broker thread's env is its own copy). */
const stubSsh = (mode?: string, extra: Partial<SshOptions> = {}): SshOptions => ({
  hostname: 'hostname', username: 'mitogen__has_sudo', sshPath: mode ? ['env', `STUBSSH_MODE=${mode}`, stub('ssh')] : stub('ssh'), ...extra,
});

test('ssh_test ConstructorTest.test_okay: a call through the stub ssh', async (t) => {
  const router = routerFor(t);
  const ctx = await router.ssh(stubSsh());
  t.is(await ctx.call((a: number, b: number) => a + b, 1, 2), 3);
  t.is(await envOf(ctx, 'THIS_IS_STUB_SSH'), '1');
  t.is(ctx.name, 'ssh.hostname');
});

test('ssh_test StubPermissionDeniedTest.test_classic_prompt: "Permission denied (...)" is a PasswordError', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.ssh(stubSsh('permdenied_classic')), { instanceOf: PasswordError });
});

test('ssh_test StubPermissionDeniedTest.test_openssh_75_prompt: "user@host: Permission denied (...)" is a PasswordError', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.ssh(stubSsh('permdenied_75')), { instanceOf: PasswordError });
});

test('ssh_test (stub, strict): "Host key verification failed." is a HostKeyError', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.ssh(stubSsh('strict')), { instanceOf: HostKeyError });
});

test('ssh_test StubCheckHostKeysTest.test_check_host_keys_accept: the unknown-host question is answered yes, in a PTY', async (t) => {
  const router = routerFor(t);
  const ctx = await router.ssh(stubSsh('ask', { checkHostKeys: 'accept' }));
  t.is(await envOf(ctx, 'STDERR_WAS_TTY'), '1');
});

test('ssh_test StubCheckHostKeysTest.test_check_host_keys_enforce / _ignore: no PTY when nothing needs one', async (t) => {
  const router = routerFor(t);
  for (const checkHostKeys of ['enforce', 'ignore'] as const) {
    const ctx = await router.ssh(stubSsh(undefined, { checkHostKeys }));
    t.is(await envOf(ctx, 'STDERR_WAS_TTY'), undefined, checkHostKeys);
  }
});

test('ssh_test StubCheckHostKeysTest.test_password_present: a password means a PTY', async (t) => {
  const router = routerFor(t);
  const ctx = await router.ssh(stubSsh(undefined, { checkHostKeys: 'ignore', password: 'willick' }));
  t.is(await envOf(ctx, 'STDERR_WAS_TTY'), '1');
});

test('ssh_test SshMixin.test_stream_name: ssh.<host>, with :<port> when the port is not 22', async (t) => {
  const router = routerFor(t);
  t.is((await router.ssh(stubSsh())).name, 'ssh.hostname');
  t.is((await router.ssh(stubSsh(undefined, { port: 22 }))).name, 'ssh.hostname');
  t.is((await router.ssh(stubSsh(undefined, { port: 2222 }))).name, 'ssh.hostname:2222');
});

test('ssh_test SshMixin.test_via_stream_name: sudo through ssh is named ssh.<host>.sudo.<user>', async (t) => {
  const router = routerFor(t);
  const ssh = await router.ssh(asUser1('h1'));
  const sudo = await router.sudo({ via: ssh, username: 'mitouser2', password: 'mitouser1_password' });
  t.is(sudo.name, `ssh.${host('h1').addr}.sudo.mitouser2`);
  t.is(await sudo.call(() => require('node:os').userInfo().username as string), 'mitouser2');
});

test('ssh_test (stub): a missing ssh is a StreamError naming it', async (t) => {
  const router = routerFor(t);
  await t.throwsAsync(router.ssh({ hostname: 'hostname', sshPath: '/nonexistent/ssh' }), { instanceOf: StreamError, message: /\/nonexistent\/ssh/ });
});
