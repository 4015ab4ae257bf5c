/**
 * The OpenSSH command line each ssh option becomes (transports/ssh.ts), and
 * what the ssh2 client takes from the same options and sshArgs
 * (transports/ssh2.ts): the same command line, resolved by `ssh -G` with
 * no config file, so only the options count.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { firstStageArgv } from '../../src/wire/first-stage.js';
import { resolveSshConfig } from '../../src/ssh/ssh-config.js';
import { StreamError } from '../../src/index.js';
import { shellQuote } from '../../transports/shell-quote.js';
import { ssh, sshOptionArgs } from '../../transports/ssh.js';
import type { SshOptions } from '../../transports/ssh.js';
import { ssh2 } from '../../transports/ssh2.js';

const common = { remoteName: 'argv-test' };
const argv = (o: SshOptions): string[] => ssh.argv(o, common);
/** The -o options given, as 'Key value' strings. */
const dashO = (o: SshOptions): string[] => argv(o).flatMap((a, i, all) => (all[i - 1] === '-o' ? [a] : []));

test('by default: BatchMode and no terminal, compression, keepalives every 30 s (10 unanswered), host keys as the config says, quiet logs', (t) => {
  const a = argv({ hostname: 'web1' });
  t.deepEqual(a.slice(0, -2), ['ssh', '-o', 'LogLevel ERROR', '-o', 'BatchMode yes', '-o', 'Compression yes', '-o', 'ServerAliveInterval 30', '-o', 'ServerAliveCountMax 10']);
  t.is(a.at(-2), 'web1');
  t.is(a.at(-1), shellQuote(firstStageArgv('node', 'argv-test')));
  t.is(ssh.login!({ hostname: 'web1' }, common).tty, 'none');
  t.false(dashO({ hostname: 'web1' }).includes('IdentitiesOnly yes'), 'no identity or password: ssh picks its keys');
  // Unset, StrictHostKeyChecking is the config's (ssh's default, ask, refuses unknown keys under BatchMode); 'enforce' says yes.
  t.true(dashO({ hostname: 'web1', checkHostKeys: 'enforce' }).includes('StrictHostKeyChecking yes'));
});

test('a password or a host-key question needs the terminal: no BatchMode, tty required', (t) => {
  for (const o of [{ hostname: 'h', password: 'pw' }, { hostname: 'h', checkHostKeys: 'accept' as const }]) {
    t.false(dashO(o).includes('BatchMode yes'), JSON.stringify(o));
    t.is(ssh.login!(o, common).tty, 'required');
  }
  t.true(dashO({ hostname: 'h', checkHostKeys: 'accept' }).includes('StrictHostKeyChecking ask'));
  t.deepEqual(dashO({ hostname: 'h', checkHostKeys: 'ignore' }).filter((x) => /KnownHosts|StrictHost/.test(x)),
    ['StrictHostKeyChecking no', 'UserKnownHostsFile /dev/null', 'GlobalKnownHostsFile /dev/null']);
});

test('identitiesOnly defaults to true with an identity file or a password, and can be turned off', (t) => {
  t.true(dashO({ hostname: 'h', identityFile: '/k' }).includes('IdentitiesOnly yes'));
  t.true(dashO({ hostname: 'h', password: 'pw' }).includes('IdentitiesOnly yes'));
  t.false(dashO({ hostname: 'h', identityFile: '/k', identitiesOnly: false }).includes('IdentitiesOnly yes'));
  const a = argv({ hostname: 'h', identityFile: '/k' });
  t.is(a[a.indexOf('-i') + 1], '/k');
});

test('compression off, keepalives changed or off, -v levels, user, port and sshArgs before the host', (t) => {
  t.false(dashO({ hostname: 'h', compression: false }).includes('Compression yes'));
  t.deepEqual(dashO({ hostname: 'h', keepaliveInterval: 5, keepaliveCount: 2 }).filter((x) => x.startsWith('ServerAlive')), ['ServerAliveInterval 5', 'ServerAliveCountMax 2']);
  // 0 is ssh's own "off"; null leaves both to the config.
  t.deepEqual(dashO({ hostname: 'h', keepaliveInterval: 0 }).filter((x) => x.startsWith('ServerAlive')), ['ServerAliveInterval 0', 'ServerAliveCountMax 10']);
  t.deepEqual(dashO({ hostname: 'h', keepaliveInterval: null, keepaliveCount: null, compression: null }).filter((x) => /^(ServerAlive|Compression)/.test(x)), []);
  t.true(argv({ hostname: 'h', sshDebugLevel: 2 }).includes('-vv'));
  t.true(argv({ hostname: 'h', sshDebugLevel: 9 }).includes('-vvv'));
  t.false(dashO({ hostname: 'h', sshDebugLevel: 1 }).includes('LogLevel ERROR'));
  const a = argv({ hostname: 'h', username: 'deploy', port: 2222, sshArgs: ['-A', '-o', 'ForwardX11 no'], sshPath: ['/opt/ssh', '-4'] });
  t.deepEqual(a.slice(0, 2), ['/opt/ssh', '-4']);
  t.is(a[a.indexOf('-l') + 1], 'deploy');
  t.is(a[a.indexOf('-p') + 1], '2222');
  t.deepEqual(a.slice(a.indexOf('h') - 3, a.indexOf('h')), ['-A', '-o', 'ForwardX11 no']);
  t.is(ssh.defaultName!({ hostname: 'h', port: 2222 }), 'ssh.h:2222');
});

const spec2 = (o: SshOptions) => ssh2.extra!(o).ssh2!;
/** Identity files that exist (ssh drops an -i it cannot read). */
const keys = mkdtempSync(join(tmpdir(), 'mitogen-ts-argv-'));
for (const k of ['k', 'k1', 'k2']) writeFileSync(join(keys, k), 'not really a key\n', { mode: 0o600 });
test.after.always(() => rmSync(keys, { recursive: true, force: true }));
const K = (k: string) => join(keys, k);

/** What the ssh2 client resolves for `o`, through `ssh -G` with no config file (so only the options count). */
const resolved2 = (o: SshOptions) => resolveSshConfig(o.hostname, ['-F', '/dev/null', ...spec2(o).sshArgs], { unhonoured: false });

test('ssh2: the same command line as the OpenSSH client, so the same defaults', async (t) => {
  for (const o of [{ hostname: 'h' }, { hostname: 'h', port: 2200, username: 'u', identityFile: '/k', compression: false, keepaliveInterval: 0 }] as SshOptions[]) {
    const args = spec2(o).sshArgs;
    t.deepEqual(args, sshOptionArgs(o));
    const a = argv(o);
    t.deepEqual(a.slice(a.length - 2 - args.length, -2), args, 'the OpenSSH client gets exactly these, before the host');
  }
  t.like(await resolved2({ hostname: 'h' }), {
    hostname: 'h', port: 22, user: userInfo().username, identitiesOnly: false, compression: true,
    serverAliveInterval: 30, serverAliveCountMax: 10, strictHostKeyChecking: 'ask', proxyJump: [],
  });
  t.true((await resolved2({ hostname: 'h' })).identityFiles.includes(`${userInfo().homedir}/.ssh/id_ed25519`), 'ssh\'s default identities');
  t.like(await resolved2({ hostname: 'h', port: 2200, username: 'u', identityFile: K('k'), compression: false, keepaliveInterval: 0, checkHostKeys: 'enforce' }),
    { port: 2200, user: 'u', identityFiles: [K('k')], identitiesOnly: true, compression: false, serverAliveInterval: 0, strictHostKeyChecking: 'yes' });
  t.is(spec2({ hostname: 'h', sshDebugLevel: 1 }).debug, true);
  t.is(ssh2.login!({ hostname: 'h', password: 'pw' }, common).tty, 'none');
});

test('ssh2: the sshArgs it accepts (-l, -p, -i and each -o it documents) set what they name', async (t) => {
  const o: SshOptions = { hostname: 'h', compression: null, keepaliveInterval: null, keepaliveCount: null, sshArgs: ['-l', 'bob', '-p2201', '-i', K('k1'),
    '-o', `IdentityFile=${K('k2')}`, '-o', 'IdentitiesOnly no', '-o', 'UserKnownHostsFile /u1 /u2', '-o', 'GlobalKnownHostsFile=/g', '-o', 'Compression=no',
    '-o', 'ServerAliveInterval 7', '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout 5', '-o', 'ProxyJump bastion', '-A'] };
  t.like(await resolved2(o), { user: 'bob', port: 2201, identityFiles: [K('k1'), K('k2')], identitiesOnly: false, userKnownHostsFiles: ['/u1', '/u2'],
    globalKnownHostsFiles: ['/g'], compression: false, serverAliveInterval: 7, serverAliveCountMax: 3, connectTimeout: 5,
    proxyJump: [{ host: 'bastion', user: undefined, port: undefined }], forwardAgent: true });
  t.like(await resolved2({ hostname: 'h', sshArgs: ['-o', 'Port=2202', '-o', 'User=carol'] }), { port: 2202, user: 'carol' });
  for (const [v, want] of [['yes', 'yes'], ['=no', 'no'], [' accept-new', 'accept-new']] as const) {
    t.is((await resolved2({ hostname: 'h', sshArgs: ['-o', `StrictHostKeyChecking${v.startsWith('=') ? v : ` ${v.trim()}`}`] })).strictHostKeyChecking, want);
  }
  // Options that only shape the ssh binary are accepted and change nothing.
  t.notThrows(() => spec2({ hostname: 'h', sshArgs: ['-o', 'LogLevel ERROR', '-o', 'BatchMode yes', '-o', 'RequestTTY no', '-o', 'ControlMaster auto', '-o', 'ControlPath /x', '-o', 'ControlPersist 1'] }));
});

test('ssh2: any other sshArgs option is refused by name', (t) => {
  for (const [args, named] of [[['-X'], /-X is not supported by the ssh2 client/], [['-o', 'ProxyCommand nc %h %p'], /-o ProxyCommand is not supported/],
    [['-o', 'ForwardX11 yes'], /-o ForwardX11 is not supported/], [['-Z'], /unknown option -- Z/], [['extra-word'], /extra-word is not supported/]] as const) {
    t.throws(() => spec2({ hostname: 'h', sshArgs: [...args] }), { instanceOf: StreamError, message: named }, args.join(' '));
  }
  t.throws(() => spec2({ hostname: 'h', port: 99999 }), { instanceOf: StreamError, message: /bad port 99999/ });
});
