/**
 * The OpenSSH command line each ssh option becomes (transports/ssh.ts), and
 * what the ssh2 client takes from the same options and sshArgs
 * (transports/ssh2.ts), checked as data: no process is started.
 */
import test from 'ava';
import { firstStageArgv } from '../src/first-stage.js';
import { StreamError } from '../src/index.js';
import { shellQuote } from '../transports/shell-quote.js';
import { ssh } from '../transports/ssh.js';
import type { SshOptions } from '../transports/ssh.js';
import { ssh2 } from '../transports/ssh2.js';

const common = { remoteName: 'argv-test' };
const argv = (o: SshOptions): string[] => ssh.argv(o, common);
/** The -o options given, as 'Key value' strings. */
const dashO = (o: SshOptions): string[] => argv(o).flatMap((a, i, all) => (all[i - 1] === '-o' ? [a] : []));

test('by default: BatchMode and no terminal, compression, keepalives every 30 s (10 unanswered), strict host keys, quiet logs', (t) => {
  const a = argv({ hostname: 'web1' });
  t.deepEqual(a.slice(0, -2), ['ssh', '-o', 'LogLevel ERROR', '-o', 'Compression yes', '-o', 'ServerAliveInterval 30', '-o', 'ServerAliveCountMax 10',
    '-o', 'BatchMode yes', '-o', 'StrictHostKeyChecking yes']);
  t.is(a.at(-2), 'web1');
  t.is(a.at(-1), shellQuote(firstStageArgv('node', 'argv-test')));
  t.is(ssh.login!({ hostname: 'web1' }, common).tty, 'none');
  t.false(dashO({ hostname: 'web1' }).includes('IdentitiesOnly yes'), 'no identity or password: ssh picks its keys');
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
  t.deepEqual(dashO({ hostname: 'h', keepaliveInterval: 0 }).filter((x) => x.startsWith('ServerAlive')), []);
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

test('ssh2: the same defaults, read from the same options', (t) => {
  t.like(spec2({ hostname: 'h' }), {
    host: 'h', port: 22, identityFiles: [], identitiesOnly: true, checkHostKeys: 'enforce', compression: true,
    keepaliveInterval: 30, keepaliveCount: 10, connectTimeout: 30, debug: false,
    userKnownHosts: ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'], globalKnownHosts: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  });
  t.like(spec2({ hostname: 'h', port: 2200, username: 'u', identityFile: '/k', compression: false, keepaliveInterval: 0, sshDebugLevel: 1 }),
    { port: 2200, username: 'u', identityFiles: ['/k'], compression: false, keepaliveInterval: 0, debug: true });
  t.is(ssh2.login!({ hostname: 'h', password: 'pw' }, common).tty, 'none');
});

test('ssh2: the sshArgs it accepts (-l, -p, -i and each -o it documents) set what they name', (t) => {
  const s = spec2({ hostname: 'h', sshArgs: ['-l', 'bob', '-p2201', '-i', '/k1', '-o', 'IdentityFile=/k2', '-o', 'IdentitiesOnly no',
    '-o', 'UserKnownHostsFile /u1 /u2', '-o', 'GlobalKnownHostsFile=/g', '-o', 'Compression=no', '-o', 'ServerAliveInterval 7',
    '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout 5'] });
  t.like(s, { username: 'bob', port: 2201, identityFiles: ['/k1', '/k2'], identitiesOnly: false, userKnownHosts: ['/u1', '/u2'],
    globalKnownHosts: ['/g'], compression: false, keepaliveInterval: 7, keepaliveCount: 3, connectTimeout: 5 });
  t.like(spec2({ hostname: 'h', sshArgs: ['-o', 'Port=2202', '-o', 'User=carol'] }), { port: 2202, username: 'carol' });
  t.is(spec2({ hostname: 'h', sshArgs: ['-o', 'StrictHostKeyChecking yes'] }).checkHostKeys, 'enforce');
  t.is(spec2({ hostname: 'h', sshArgs: ['-o', 'StrictHostKeyChecking=no'] }).checkHostKeys, 'ignore');
  t.is(spec2({ hostname: 'h', sshArgs: ['-o', 'StrictHostKeyChecking accept-new'] }).checkHostKeys, 'accept');
  // 'ignore' wins over files named in sshArgs; ConnectTimeout only shortens.
  t.is(spec2({ hostname: 'h', checkHostKeys: 'ignore', sshArgs: ['-o', 'StrictHostKeyChecking yes'] }).checkHostKeys, 'ignore');
  t.is(spec2({ hostname: 'h', connectTimeout: 4, sshArgs: ['-o', 'ConnectTimeout 50'] } as SshOptions).connectTimeout, 4);
  // Options that only shape the ssh binary are accepted and change nothing.
  t.notThrows(() => spec2({ hostname: 'h', sshArgs: ['-o', 'LogLevel ERROR', '-o', 'BatchMode yes', '-o', 'RequestTTY no', '-o', 'ControlMaster auto', '-o', 'ControlPath /x', '-o', 'ControlPersist 1'] }));
});

test('ssh2: any other sshArgs option is refused by name', (t) => {
  for (const [args, named] of [[['-A'], /-A is not supported by the ssh2 client/], [['-o', 'ProxyJump bastion'], /-o ProxyJump is not supported/],
    [['-J', 'bastion'], /-J is not supported/], [['-p', '99999'], /bad port 99999/], [['-Z'], /unknown option -- Z/], [['extra-word'], /extra-word is not supported/]] as const) {
    t.throws(() => spec2({ hostname: 'h', sshArgs: [...args] }), { instanceOf: StreamError, message: named }, args.join(' '));
  }
});
