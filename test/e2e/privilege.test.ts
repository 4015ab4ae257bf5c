/**
 * sudo, su and doas with real users, real PAM and real passwords typed into a
 * real PTY. The users and policies come from test/setup/steps/10-users-priv.sh:
 * mitouser1 may sudo to mitouser2/3 and doas to mitouser2 with its own
 * password; mitouser2 sudoes to mitouser1 with targetpw; mitouser3 is
 * NOPASSWD/nopass; mitouser4 is NOPASSWD with requiretty. Passwords are
 * "<user>_password". Root runs the suite; `runuser -u` makes the first hop
 * unprivileged.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { currentRouter, PasswordError, StreamError } from '../../src/index.js';
import type { Context } from '../../src/index.js';
import { collectLogs, routerFor, sampleProcesses, waitUntil } from '../helpers.js';

const as = (user: string, tool: string): string[] => ['runuser', '-u', user, '--', tool];
const nodeAs = (user: string, env: string[] = []): string[] => ['env', ...env, 'runuser', '-u', user, '--', 'node'];
const who = (ctx: Context) => ctx.call(() => ({ user: require('node:os').userInfo().username as string, uid: process.getuid!(), home: process.env.HOME }));

test('sudo: right password, first hop from an unprivileged user', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(ctx)).user, 'mitouser2');
  t.is(ctx.name, 'sudo.mitouser2');
});

// These logins would otherwise wait for connectTimeout: it is set far beyond the test's own timeout,
// so a login that is not ended by what sudo printed fails the test instead of passing late.
const NEVER = 3600;

test('sudo: a wrong password is a PasswordError with sudo\'s words, long before the connect timeout', async (t) => {
  t.timeout(60_000);
  const router = routerFor(t);
  const err = await t.throwsAsync(router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', password: 'wrong', connectTimeout: NEVER }), { instanceOf: PasswordError });
  t.is(err!.method, 'sudo');
  // Ended by sudo's second prompt, not by sudo giving up after its three attempts.
  t.regex(err!.message, /^sudo password is incorrect: sudo asked again "\[sudo\] password for mitouser1:"$/);
});

test('sudo: a missing password fails at once, quoting the prompt', async (t) => {
  t.timeout(60_000);
  const router = routerFor(t);
  const err = await t.throwsAsync(router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', connectTimeout: NEVER }), { instanceOf: PasswordError });
  t.regex(err!.message, /^sudo password is required: sudo asked "\[sudo\] password for mitouser1:"/);
});

test('sudo: NOPASSWD, requiretty and targetpw rules', async (t) => {
  const router = routerFor(t);
  const nopass = await router.sudo({ sudoPath: as('mitouser3', 'sudo') });
  t.is((await who(nopass)).uid, 0);
  // requiretty: works because the tool has a controlling terminal (our PTY).
  const tty = await router.sudo({ sudoPath: as('mitouser4', 'sudo'), username: 'mitouser1' });
  t.is((await who(tty)).user, 'mitouser1');
  // targetpw: mitouser2 must type mitouser1's password, and sudo's prompt says so.
  const target = await router.sudo({ sudoPath: as('mitouser2', 'sudo'), username: 'mitouser1', password: 'mitouser1_password' });
  t.is((await who(target)).user, 'mitouser1');
});

test('sudo: sudoArgs are parsed as Mitogen parses them; an unknown option is a StreamError naming it', async (t) => {
  const router = routerFor(t);
  const ctx = await router.sudo({ sudoPath: as('mitouser3', 'sudo'), sudoArgs: ['-u', 'mitouser2', '-H'] });
  const me = await who(ctx);
  t.is(me.user, 'mitouser2');
  t.is(me.home, '/home/mitouser2');
  await t.throwsAsync(router.sudo({ sudoArgs: ['--bogus'] }), { instanceOf: StreamError, message: /unsupported sudo option "--bogus"/ });
  await t.throwsAsync(router.sudo({ sudoArgs: ['-u'] }), { instanceOf: StreamError, message: /-u needs a value/ });
});

test('sudo: preserveEnv, setHome and login take effect as -E, -H and -i', async (t) => {
  const router = routerFor(t);
  // mitouser3 may run anything as root without a password; MT_KEEP is in sudo's own environment.
  const sudoPath = ['env', 'MT_KEEP=kept', 'runuser', '-u', 'mitouser3', '--', 'sudo'];
  const seen = async (o: Parameters<typeof router.sudo>[0]) => (await router.sudo({ sudoPath, ...o })).call(() =>
    ({ home: process.env.HOME, keep: process.env.MT_KEEP ?? 'dropped', shlvl: process.env.SHLVL ?? 'none', user: require('node:os').userInfo().username as string }));
  t.like(await seen({}), { user: 'root', home: '/root', keep: 'dropped', shlvl: 'none' });
  t.like(await seen({ preserveEnv: true }), { user: 'root', home: '/home/mitouser3', keep: 'kept' }, 'sudo -E keeps the caller\'s environment, HOME too');
  t.like(await seen({ preserveEnv: true, setHome: true }), { home: '/root', keep: 'kept' }, '-H sets HOME even so');
  t.like(await seen({ sudoArgs: ['-EH'] }), { home: '/root', keep: 'kept' });
  t.not((await seen({ login: true })).shlvl, 'none', 'sudo -i runs the command through root\'s login shell');
});

test('sudo: a translated prompt (German) is recognised', async (t) => {
  const router = routerFor(t);
  const german = ['LANG=de_DE.UTF-8', 'LANGUAGE=de', 'LC_ALL=de_DE.UTF-8'];
  const u1 = await router.local({ nodePath: nodeAs('mitouser1', german) });
  const err = await t.throwsAsync(router.sudo({ via: u1, username: 'mitouser2' }), { instanceOf: PasswordError });
  t.regex(err!.message, /sudo asked "\[sudo\] Passwort für mitouser1:"/);
  const ctx = await router.sudo({ via: u1, username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(ctx)).user, 'mitouser2');
});

test('sudo through an unprivileged context, and a chain sudo -> local -> sudo', async (t) => {
  const router = routerFor(t);
  const u1 = await router.local({ nodePath: nodeAs('mitouser1') });
  const viaU1 = await router.sudo({ via: u1, username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(viaU1)).user, 'mitouser2');
  const first = await router.sudo({ username: 'mitouser1' });               // root -> mitouser1
  const middle = await router.local({ via: first });                         // mitouser1's own child
  const last = await router.sudo({ via: middle, username: 'mitouser3', password: 'mitouser1_password' });
  t.deepEqual([(await who(first)).user, (await who(middle)).user, (await who(last)).user], ['mitouser1', 'mitouser1', 'mitouser3']);
  const pids = await Promise.all([first, middle, last].map((c) => c.call(() => [process.pid, process.ppid])));
  t.is(pids[1]![1], pids[0]![0], 'the middle is a child of the first');
});

test('su: the target\'s password, right, wrong and missing; through an unprivileged context', async (t) => {
  const router = routerFor(t);
  const ok = await router.su({ suPath: as('mitouser1', 'su'), username: 'mitouser2', password: 'mitouser2_password' });
  t.is((await who(ok)).user, 'mitouser2');
  t.is(ok.name, 'su.mitouser2');
  const wrong = await t.throwsAsync(router.su({ suPath: as('mitouser1', 'su'), username: 'mitouser2', password: 'nope' }), { instanceOf: PasswordError });
  t.is(wrong!.method, 'su');
  t.regex(wrong!.message, /^su password is incorrect: su: Authentication failure/);
  const missing = await t.throwsAsync(router.su({ suPath: as('mitouser1', 'su'), username: 'mitouser2' }), { instanceOf: PasswordError });
  t.regex(missing!.message, /^su password is required/);
  const u1 = await router.local({ nodePath: nodeAs('mitouser1') });
  const viaU1 = await router.su({ via: u1, username: 'mitouser3', password: 'mitouser3_password' });
  t.is((await who(viaU1)).user, 'mitouser3');
});

test('doas: right, wrong and missing password; nopass rules', async (t) => {
  const router = routerFor(t);
  const ok = await router.doas({ doasPath: as('mitouser1', 'doas'), username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(ok)).user, 'mitouser2');
  const wrong = await t.throwsAsync(router.doas({ doasPath: as('mitouser1', 'doas'), username: 'mitouser2', password: 'nope' }), { instanceOf: PasswordError });
  t.is(wrong!.method, 'doas');
  t.regex(wrong!.message, /^doas password is incorrect: doas: Authentication failed/);
  const missing = await t.throwsAsync(router.doas({ doasPath: as('mitouser1', 'doas'), username: 'mitouser2' }), { instanceOf: PasswordError });
  t.regex(missing!.message, /^doas password is required: doas asked "doas \(mitouser1@.*\) password:"/);
  const nopass = await router.doas({ doasPath: as('mitouser3', 'doas'), username: 'mitouser1' });
  t.is((await who(nopass)).user, 'mitouser1');
  const u1 = await router.local({ nodePath: nodeAs('mitouser1') });
  const viaU1 = await router.doas({ via: u1, username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(viaU1)).user, 'mitouser2');
});

test('where no PTY can be opened, sudo falls back to -S and su to pipes; doas says it needs a terminal', async (t) => {
  const router = routerFor(t);
  // mitouser1's context cannot see this repository's node_modules (an empty tmpfs): node-pty is not loadable there.
  const modules = fileURLToPath(new URL('../../node_modules', import.meta.url));
  const blind = await router.local({ nodePath: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `mount -t tmpfs none '${modules}' && exec runuser -u mitouser1 -- node "$@"`, 'sh'] });
  const s = await router.sudo({ via: blind, username: 'mitouser2', password: 'mitouser1_password' });
  t.is((await who(s)).user, 'mitouser2');
  const wrong = await t.throwsAsync(router.sudo({ via: blind, username: 'mitouser2', password: 'bad' }), { instanceOf: PasswordError });
  t.regex(wrong!.message, /sudo password is incorrect/);
  const u = await router.su({ via: blind, username: 'mitouser3', password: 'mitouser3_password' });
  t.is((await who(u)).user, 'mitouser3');
  await t.throwsAsync(router.doas({ via: blind, username: 'mitouser2', password: 'mitouser1_password' }), { instanceOf: StreamError, message: /doas needs a terminal/ });
});

test('the password appears in no log line (debug level), error message, argv or environment', async (t) => {
  const router = routerFor(t);
  const secret = 'mitouser1_password';
  const records = collectLogs(t);
  // Every process's argv and environment, sampled all through the logins below.
  const sampler = sampleProcesses(secret, (argv) => argv[0] === 'sudo');
  t.teardown(() => sampler.stop());
  const ctx = await router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', password: secret, debug: true });
  await ctx.call(() => console.log('a line from the sudo context'));
  // A debug context logs its own life at debug level: starting a child and shutting down.
  await ctx.call(async () => { const g = await currentRouter()!.local(); await g.shutdown({ wait: true }); });
  await ctx.shutdown({ wait: true });
  const errors: string[] = [];
  for (const method of ['sudo', 'su', 'doas'] as const) {
    const opts = { username: 'mitouser2', password: `${secret}-wrong`, debug: true };
    const p = method === 'sudo' ? router.sudo({ ...opts, sudoPath: as('mitouser1', 'sudo') })
      : method === 'su' ? router.su({ ...opts, suPath: as('mitouser1', 'su') })
        : router.doas({ ...opts, doasPath: as('mitouser1', 'doas') });
    const e = await t.throwsAsync(p, { instanceOf: PasswordError });
    errors.push(e!.message, e!.stack ?? '');
  }
  const sampled = sampler.stop();
  t.true(records.some((r) => r.text === 'a line from the sudo context'));
  t.true(records.some((r) => r.level === 'debug'), 'debug records were produced');
  t.true(sampled.toolSeen > 0, `the samples saw sudo running (${sampled.samples} samples)`);
  t.deepEqual(sampled.leaks, [], 'no process showed the password');
  for (const text of [...records.map((r) => r.text), ...errors]) t.false(text.includes(secret), `leaked in: ${text.slice(0, 200)}`);
});

test('no tool process outlives a failed login, and contexts hold no inherited terminals', async (t) => {
  const router = routerFor(t);
  const marker = `leakcheck-${process.pid}-${Date.now()}`;
  const attempts = [
    router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', password: 'bad', remoteName: marker }),
    router.sudo({ sudoPath: as('mitouser1', 'sudo'), username: 'mitouser2', remoteName: marker }),
    router.doas({ doasPath: as('mitouser1', 'doas'), username: 'mitouser2', password: 'bad', remoteName: marker }),
    router.su({ suPath: as('mitouser1', 'su'), username: 'mitouser2', password: 'bad', remoteName: marker }),
  ];
  // Meanwhile, contexts start (and would inherit the logins' terminals).
  const locals = await Promise.all([router.local(), router.local()]);
  for (const r of await Promise.allSettled(attempts)) t.is(r.status, 'rejected');
  const alive = (): string[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(marker); } catch { return false; }
  });
  await waitUntil(() => alive().length === 0, 10, 'every tool started for the failed logins has exited');
  for (const ctx of locals) {
    const terminals = await ctx.call(() => require('node:fs').readdirSync('/proc/self/fd')
      .map((fd: string) => { try { return require('node:fs').readlinkSync(`/proc/self/fd/${fd}`) as string; } catch { return ''; } })
      .filter((l: string) => l === '/dev/ptmx' || l.startsWith('/dev/pts/')));
    t.deepEqual(terminals, []);
  }
});
