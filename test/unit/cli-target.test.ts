/** The command line's target syntax and arguments, read in-process (no hosts needed). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseArgs, UsageError } from '../../src/cli/cli-args.js';
import { parseHostsFile, parseTarget, TargetSyntaxError } from '../../src/cli/cli-target.js';

test('parseTarget: [user@]host[:port], bracketed IPv6 with a port, bare IPv6 without', (t) => {
  t.deepEqual(parseTarget('h1'), { kind: 'ssh', text: 'h1', hostname: 'h1' });
  t.deepEqual(parseTarget('web1.example.com:2222'), { kind: 'ssh', text: 'web1.example.com:2222', hostname: 'web1.example.com', port: 2222 });
  t.deepEqual(parseTarget('deploy@10.0.0.5:22'), { kind: 'ssh', text: 'deploy@10.0.0.5:22', hostname: '10.0.0.5', username: 'deploy', port: 22 });
  t.deepEqual(parseTarget('root@[fe80::1%eth0]:2200'), { kind: 'ssh', text: 'root@[fe80::1%eth0]:2200', hostname: 'fe80::1%eth0', username: 'root', port: 2200 });
  t.deepEqual(parseTarget('[2001:db8::7]'), { kind: 'ssh', text: '[2001:db8::7]', hostname: '2001:db8::7' });
  t.deepEqual(parseTarget('u@::1'), { kind: 'ssh', text: 'u@::1', hostname: '::1', username: 'u' });
  t.deepEqual(parseTarget('h1:65535').port, 65535);
});

test('parseTarget: a TargetSyntaxError names the bad text and what is wrong with it', (t) => {
  const bad: [string, RegExp][] = [
    ['', /no host name/],
    ['@h1', /no user name before "@"/],
    ['u@', /no host name/],
    ['h1:', /port "" is not a number/],
    ['h1:ssh', /port "ssh" is not a number/],
    ['h1:0x16', /port "0x16" is not a number/],
    ['h1:0', /port 0 is outside 1-65535/],
    ['h1:65536', /port 65536 is outside 1-65535/],
    ['[fe80::1', /no "\]" after "\["/],
    ['[fe80::1]2222', /"2222" after "\]" \(expected ":PORT"\)/],
    ['[fe80::1]:', /port "" is not a number/],
    ['[web1]:22', /"web1" is not an IPv6 address/],
    ['[]:22', /no host name/],
    ['-oProxyCommand=x', /cannot start with "-"/],
    ['u@-oProxyCommand=x', /cannot start with "-"/],
    ['-u@h1', /"-u" is not a user name/],
    ['h 1', /"h 1" is not a host name/],
    ['a/b', /"a\/b" is not a host name/],
  ];
  for (const [text, why] of bad) {
    const e = t.throws(() => parseTarget(text), { instanceOf: TargetSyntaxError }, text);
    t.is(e?.text, text);
    t.true(e!.message.startsWith(`bad target ${JSON.stringify(text)}: `), e?.message);
    t.regex(e!.message, why, text);
  }
});

test('parseHostsFile: one a line, # comments and blank lines ignored', (t) => {
  t.deepEqual(parseHostsFile('h1\n  h2:2222  # the second\n\n# all comment\nu@[::1]:22\n'), ['h1', 'h2:2222', 'u@[::1]:22']);
});

test('parseArgs: --sudo takes a user only after "=", so the word after it stays a target', (t) => {
  t.is(parseArgs(['exec', 'h1', '--connect-timeout', '90', '--', 'id']).connectTimeout, 90);
  t.throws(() => parseArgs(['exec', 'h1', '--connect-timeout', 'soon', '--', 'id']), { message: /--connect-timeout needs a number, not "soon"/ });
  const a = parseArgs(['exec', '--sudo', 'h1', '--', 'id']);
  t.deepEqual(a.become, { method: 'sudo' });
  t.deepEqual(a.targets.map((x) => x.text), ['h1']);
  t.deepEqual(parseArgs(['exec', 'h1', '--su=mitouser2', '--', 'id']).become, { method: 'su', username: 'mitouser2' });
  t.deepEqual(parseArgs(['exec', 'h1', '--doas=op', '-K', '--', 'id']), {
    ...parseArgs(['exec', 'h1', '--', 'id']), become: { method: 'doas', username: 'op' }, askBecomePass: true,
  });
  t.throws(() => parseArgs(['exec', 'h1', '--sudo=', '--', 'id']), { instanceOf: UsageError, message: '--sudo= needs a user name' });
  t.throws(() => parseArgs(['exec', 'h1', '--sudo', '--su', '--', 'id']), { instanceOf: UsageError, message: /only one of/ });
  t.throws(() => parseArgs(['exec', 'h1', '--ask-become-pass', '--', 'id']), { instanceOf: UsageError, message: /without --sudo/ });
});

test('parseArgs: targets from words, repeated -H, --hosts-file, --docker and --local, in order; --via is a chain', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-args-'));
  const file = join(dir, 'hosts');
  writeFileSync(file, '# fleet\nh4\nu@h5:2200\n');
  const a = parseArgs(['exec', 'h1', '-H', 'h2,h3', '--hosts-file', file, '-H', '[::1]:22', '--docker', 'web', '--local',
    '--via', 'jump1', '--via=u@jump2:2222', '-l', 'ops', '-p', '2022', '--client=ssh2', '--parallel', '4', '-t', '9', '--', 'uname', '-r']);
  t.deepEqual(a.targets, [
    { kind: 'ssh', text: 'h1', hostname: 'h1' },
    { kind: 'ssh', text: 'h2', hostname: 'h2' },
    { kind: 'ssh', text: 'h3', hostname: 'h3' },
    { kind: 'ssh', text: 'h4', hostname: 'h4' },
    { kind: 'ssh', text: 'u@h5:2200', hostname: 'h5', username: 'u', port: 2200 },
    { kind: 'ssh', text: '[::1]:22', hostname: '::1', port: 22 },
    { kind: 'docker', text: 'docker:web', container: 'web' },
    { kind: 'local', text: 'local' },
  ]);
  t.deepEqual(a.via, [{ kind: 'ssh', text: 'jump1', hostname: 'jump1' }, { kind: 'ssh', text: 'u@jump2:2222', hostname: 'jump2', username: 'u', port: 2222 }]);
  t.deepEqual(a.ssh, { username: 'ops', port: 2022, client: 'ssh2' });
  t.like(a, { concurrency: 4, timeout: 9, rest: ['uname', '-r'] });
});

test('parseArgs: a bad target, a missing hosts file and a flag given a value it does not take are usage errors naming them', (t) => {
  t.throws(() => parseArgs(['exec', '-H', 'h1,h2:99999', '--', 'id']), { instanceOf: UsageError, message: 'bad target "h2:99999": port 99999 is outside 1-65535' });
  t.throws(() => parseArgs(['exec', '--hosts-file', '/nonexistent/hosts', '--', 'id']), { instanceOf: UsageError, message: /^--hosts-file \/nonexistent\/hosts: ENOENT/ });
  t.throws(() => parseArgs(['exec', 'h1', '--json=yes', '--', 'id']), { instanceOf: UsageError, message: '--json takes no value' });
  t.throws(() => parseArgs(['exec', 'h1', '--timeout', ' ', '--', 'id']), { instanceOf: UsageError, message: /--timeout needs a number/ });
});
