/**
 * ssh with both clients (OpenSSH, and the in-process ssh2) against real sshd hosts, each in its own
 * network namespace (test/setup/steps/20-netns-ssh.sh): h1..h20 take keys,
 * pw only passwords, kbd only keyboard-interactive, and hk's key in
 * known_hosts is stale.
 */
import test from 'ava';
import { start as startProxy } from '../../bench/lib/delay-proxy.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChannelError, currentRouter, EofError, HostKeyError, PasswordError, StreamError } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { collectLogs, fixturesDir, hidingNodePath, routerFor, sampleProcesses } from '../helpers.js';
import { asUser1, deadAddress, host, sshTestbed } from '../testbed.js';

const whereAmI = (ctx: Context) => ctx.call(() => ({
  hostname: require('node:os').hostname() as string,
  testbedHost: process.env.MITO_TESTBED_HOST,
  client: process.env.SSH_CONNECTION?.split(' ')[0],
  user: require('node:os').userInfo().username as string,
}));
const knownHosts = (): string[] => ['-o', `UserKnownHostsFile ${sshTestbed().knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'];

for (const client of ['openssh', 'ssh2'] as const) {
  const ssh = (router: Router, o: Parameters<Router['ssh']>[0]): Promise<Context> => router.ssh({ ...o, client });

  test.serial(`${client}: a host that vanishes mid-call (its link dropped): the call, and the context beyond it, end with ChannelError`, async (t) => {
    // Serial: ava runs these before the concurrent tests (the fan-out uses every host).
    const router = routerFor(t);
    const name = client === 'openssh' ? 'h19' : 'h20';
    const veth = `mtv-${name}`;
    const ctx = await ssh(router, { ...asUser1(name), keepaliveInterval: 1, keepaliveCount: 2 });
    const beyond = await router.local({ via: ctx });
    t.is(await beyond.call(() => require('node:os').hostname() as string), name);
    const gone: string[] = [];
    const sub = router.events.subscribe((e) => { if (e.type === 'disconnect' && e.context) gone.push(e.context.name); });
    t.teardown(() => { sub.unsubscribe(); spawnSync('ip', ['link', 'set', veth, 'up']); });
    const pending = ctx.call(() => new Promise(() => { /* never settles */ }));
    const pendingBeyond = beyond.call(() => new Promise(() => { /* never settles */ }));
    t.is(spawnSync('ip', ['link', 'set', veth, 'down']).status, 0);
    await t.throwsAsync(pending, { instanceOf: ChannelError });
    await t.throwsAsync(pendingBeyond, { instanceOf: ChannelError });
    t.true(ctx.isDisconnected && beyond.isDisconnected);
    t.deepEqual(gone.sort(), [beyond.name, ctx.name].sort());
  });

  test(`${client}: the password appears in no log line (ssh's debug output included), error message, argv or environment`, async (t) => {
    const router = routerFor(t);
    const secret = 'mitouser1_password';
    const records = collectLogs(t);
    const pw = { hostname: host('pw').addr, username: 'mitouser1', sshArgs: knownHosts(), debug: true, sshDebugLevel: 3 };
    // Every process's argv and environment, sampled all through both logins: the ssh
    // client's (OpenSSH), or the session sshd starts on the host (either client).
    const sampler = sampleProcesses(secret, client === 'openssh' ? (argv) => argv[0] === 'ssh' : (argv) => argv[0]!.startsWith('sshd: mitouser1'));
    t.teardown(() => sampler.stop());
    const ctx = await ssh(router, { ...pw, password: secret });
    await ctx.call(() => console.log('a line from the ssh context'));
    const wrong = await t.throwsAsync(ssh(router, { ...pw, password: `${secret}-wrong` }), { instanceOf: PasswordError });
    const sampled = sampler.stop();
    t.true(records.some((r) => r.text === 'a line from the ssh context'));
    t.true(records.some((r) => /debug1|debug2|debug3/.test(r.text)), `${client}'s debug lines were forwarded`);
    t.true(sampled.toolSeen > 0, `the samples saw the login running (${sampled.samples} samples)`);
    t.deepEqual(sampled.leaks, [], 'no process showed the password');
    for (const text of [...records.map((r) => r.text), wrong!.message, wrong!.stack ?? '']) t.false(text.includes(secret), `leaked in: ${text.slice(0, 200)}`);
  });

  test(`${client}: key auth and a call`, async (t) => {
    const router = routerFor(t);
    const ctx = await ssh(router, asUser1('h1'));
    t.is(ctx.name, `ssh.${host('h1').addr}`);
    t.deepEqual(await whereAmI(ctx), { hostname: 'h1', testbedHost: 'h1', client: '10.213.0.1', user: 'mitouser1' });
  });

  test(`${client}: three hops: each reports its own hostname and its session's environment`, async (t) => {
    const router = routerFor(t);
    const h1 = await ssh(router, asUser1('h1'));
    const h2 = await ssh(router, { ...asUser1('h2'), via: h1 });
    const h3 = await ssh(router, { ...asUser1('h3'), via: h2 });
    const [a, b, c] = await Promise.all([h1, h2, h3].map(whereAmI));
    t.deepEqual([a!.hostname, b!.hostname, c!.hostname], ['h1', 'h2', 'h3']);
    t.deepEqual([a!.testbedHost, b!.testbedHost, c!.testbedHost], ['h1', 'h2', 'h3']);
    // Each hop's ssh client is the hop before it.
    t.deepEqual([a!.client, b!.client, c!.client], ['10.213.0.1', host('h1').addr, host('h2').addr]);
    t.is(await h3.call((x: number) => x * 2, 21), 42);
  });

  test(`${client}: password auth: right, missing and wrong`, async (t) => {
    const router = routerFor(t);
    const pw = { hostname: host('pw').addr, username: 'mitouser1', sshArgs: knownHosts() };
    const ok = await ssh(router, { ...pw, password: 'mitouser1_password' });
    t.is((await whereAmI(ok)).hostname, 'pw');
    const missing = await t.throwsAsync(ssh(router, pw), { instanceOf: PasswordError });
    t.is(missing!.method, 'ssh');
    t.regex(missing!.message, /no password was given \(mitouser1@10\.213\.0\.201\): .*Permission denied/);
    const wrong = await t.throwsAsync(ssh(router, { ...pw, password: 'wrong' }), { instanceOf: PasswordError });
    t.regex(wrong!.message, /^ssh password is incorrect \(mitouser1@10\.213\.0\.201\): Permission denied/);
    t.false(wrong!.message.includes('wrong'), 'the password is not in the message');
  });

  test(`${client}: keyboard-interactive: right and wrong`, async (t) => {
    const router = routerFor(t);
    const kbd = { hostname: host('kbd').addr, username: 'mitouser1', sshArgs: knownHosts() };
    const ok = await ssh(router, { ...kbd, password: 'mitouser1_password' });
    t.is((await whereAmI(ok)).hostname, 'kbd');
    const wrong = await t.throwsAsync(ssh(router, { ...kbd, password: 'wrong' }), { instanceOf: PasswordError });
    t.regex(wrong!.message, /ssh password is incorrect/);
  });

  test(`${client}: host keys: a changed key is refused under enforce and accepted under ignore; an unknown key is added under accept`, async (t) => {
    const router = routerFor(t);
    const hk = { ...asUser1('hk') };
    const changed = await t.throwsAsync(ssh(router, hk), { instanceOf: HostKeyError });
    t.regex(changed!.message, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    const ignored = await ssh(router, { ...hk, checkHostKeys: 'ignore', sshArgs: [] });
    t.is((await whereAmI(ignored)).hostname, 'hk');

    const dir = mkdtempSync(join(os.tmpdir(), 'mt-known-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, '');
    const fresh = { ...asUser1('h4'), sshArgs: ['-o', `UserKnownHostsFile ${file}`, '-o', 'GlobalKnownHostsFile /dev/null'] };
    const unknown = await t.throwsAsync(ssh(router, fresh), { instanceOf: HostKeyError });
    t.regex(unknown!.message, /No ED25519 host key is known|Host key verification failed/);
    const accepted = await ssh(router, { ...fresh, checkHostKeys: 'accept' });
    t.is((await whereAmI(accepted)).hostname, 'h4');
    // Debian hashes known_hosts entries: look the host up the way ssh does.
    const found = spawnSync('ssh-keygen', ['-F', host('h4').addr, '-f', file], { encoding: 'utf8' });
    t.is(found.status, 0);
    t.regex(found.stdout, /ssh-ed25519 /);
    t.true(readFileSync(file, 'utf8').length > 0);
    // Now known: enforce accepts it.
    t.is((await whereAmI(await ssh(router, fresh))).hostname, 'h4');
  });

  test(`${client}: a refused port is a StreamError saying "refused"; a missing node names the host and the path tried`, async (t) => {
    const router = routerFor(t);
    const refused = await t.throwsAsync(ssh(router, { ...asUser1('h1'), port: 2200 }), { instanceOf: StreamError });
    t.regex(refused!.message, /Connection refused/);
    t.regex(refused!.message, /10\.213\.0\.11:2200/);
    const noNode = await t.throwsAsync(ssh(router, { ...asUser1('h1'), nodePath: '/opt/no-node/bin/node' }), { instanceOf: StreamError });
    t.regex(noNode!.message, /node was not found \(mitouser1@10\.213\.0\.11\): tried \/opt\/no-node\/bin\/node/);
    // A login that prints some other "No such file or directory" on stderr is not a missing node.
    const noisy = await ssh(router, { ...asUser1('h1'), nodePath: ['sh', '-c', 'ls /nonexistent-mitogen-ts >&2; exec node "$@"', 'sh'] });
    t.is(await noisy.call(() => 6 * 7), 42);
    // A remote side that prints and exits is an EofError quoting it.
    const eof = await t.throwsAsync(ssh(router, { ...asUser1('h1'), nodePath: ['sh', '-c', 'echo remote says no; exit 3', 'sh'] }), { instanceOf: EofError });
    t.regex(eof!.message, /remote says no/);
  });

  test(`${client}: fan-out to 20 hosts with one of them down: only its promise fails; concurrency is bounded`, async (t) => {
    const router = routerFor(t);
    router.maxConcurrentConnects = 8;
    const names = Array.from({ length: 20 }, (_, i) => `h${i + 1}`);
    let peak = 0;
    let settled = false;
    const sampler = (async () => { while (!settled) { peak = Math.max(peak, router.connectsInFlight); await new Promise((r) => setImmediate(r)); } })();
    const attempts = [...names.map((n) => asUser1(n)), { ...asUser1('h1'), hostname: deadAddress(), connectTimeout: 10 }];
    const results = await Promise.allSettled(attempts.map((o) => ssh(router, o).then((c) => c.call(() => require('node:os').hostname() as string))));
    settled = true;
    await sampler;
    t.deepEqual(results.slice(0, 20).map((r) => (r.status === 'fulfilled' ? r.value : `failed: ${(r.reason as Error).message}`)), names);
    t.is(results[20]!.status, 'rejected');
    t.true((results[20] as PromiseRejectedResult).reason instanceof StreamError);
    t.true(peak > 1 && peak <= 8, `peak concurrency ${peak}`);
  });

  test(`${client}: module forwarding to a remote host that lacks the module (ESM)`, async (t) => {
    const router = routerFor(t);
    // As root (to make a mount namespace there) with the fixtures hidden on the host.
    const dir = `${fixturesDir}forwarding`;
    const ctx = await ssh(router, {
      hostname: host('h2').addr, username: 'root', identityFile: sshTestbed().key, sshArgs: knownHosts(), nodePath: hidingNodePath(dir),
    });
    t.deepEqual(await ctx.call((d: string) => require('node:fs').readdirSync(d), dir), []);
    t.is(await ctx.call(async () => (await import('../fixtures/forwarding/esm/main.js')).describe()), 'esm main sees 42');
    t.is((await whereAmI(ctx)).hostname, 'h2');
  });
}

test('ssh2: a via context without ssh2 on its disk gets it by module forwarding and connects from its broker', async (t) => {
  const router = routerFor(t);
  const ssh2Dir = fileURLToPath(new URL('../../node_modules/ssh2', import.meta.url));
  const hop = await router.local({ nodePath: hidingNodePath(ssh2Dir) });
  // ssh2's files are hidden there: only forwarding can bring them.
  t.deepEqual(await hop.call((d: string) => require('node:fs').readdirSync(d), ssh2Dir), []);
  const stats = () => hop.call(async () => currentRouter()!.broker.control((api) => api.stats()));
  const before = await stats();
  const ctx = await router.ssh({ ...asUser1('h5'), client: 'ssh2', via: hop });
  const w = await whereAmI(ctx);
  t.is(w.hostname, 'h5');
  t.is(w.client, '10.213.0.1');
  const after = await stats();
  // ssh2's files came with the first reply (preloaded), not one request each.
  t.true(after.modulesPreloaded - before.modulesPreloaded >= 10, `the hop was sent ${after.modulesPreloaded - before.modulesPreloaded} modules for ssh2`);
  t.true(after.moduleMisses - before.moduleMisses <= 3, `the hop asked ${after.moduleMisses - before.moduleMisses} times`);
  // No ssh process was started for it: the hop's only children are none (the session is in-process).
  t.deepEqual(await hop.call(() => require('node:child_process').execSync(`ps -o comm= --ppid ${process.pid}`, { encoding: 'utf8' }).trim().split('\n').filter((c: string) => c && c !== 'ps' && c !== 'sh')), []);
});

test('ssh2: ssh options it cannot honour are refused by name; -o options it understands are taken', async (t) => {
  const router = routerFor(t);
  const bad = await t.throwsAsync(router.ssh({ ...asUser1('h1'), client: 'ssh2', sshArgs: ['-o', 'ProxyCommand x'] }), { instanceOf: StreamError });
  t.regex(bad!.message, /-o ProxyCommand is not supported by the ssh2 client/);
  const flag = await t.throwsAsync(router.ssh({ ...asUser1('h1'), client: 'ssh2', sshArgs: ['-X'] }), { instanceOf: StreamError });
  t.regex(flag!.message, /sshArgs: -X is not supported by the ssh2 client/);
  const ok = await router.ssh({ hostname: host('h6').addr, client: 'ssh2', sshArgs: ['-l', 'mitouser1', '-i', '/home/mitouser1/.ssh/id_mitotest', ...knownHosts()] });
  t.is((await whereAmI(ok)).user, 'mitouser1');
});

for (const client of ['ssh2', 'openssh'] as const) {
  test(`${client}: HostKeyAlias names the known_hosts entry as it is, on another port too (as OpenSSH)`, async (t) => {
    // A plain TCP relay on a loopback port in front of h1's sshd: the key is known only under h1's address (port 22).
    const relay = await startProxy({ target: { host: host('h1').addr, port: 22 }, delayMs: 0 });
    t.teardown(() => relay.close());
    const router = routerFor(t);
    const ctx = await router.ssh({
      ...asUser1('h1'), client, hostname: '127.0.0.1', port: relay.port, checkHostKeys: 'enforce',
      sshArgs: [...asUser1('h1').sshArgs, '-o', `HostKeyAlias ${host('h1').addr}`],
    });
    t.is(await ctx.call(() => require('node:os').hostname()), 'h1');
  });
}
