/**
 * The `mitogen-ts` command line (the built bin, run as a process) against the
 * real sshd test hosts, named by the testbed's ssh_config aliases: live
 * output prefixed per host, a summary, and a status that says whether every
 * target succeeded.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { asUser1, deadAddress, sshTestbed } from '../testbed.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const where = fileURLToPath(new URL('../fixtures/cli/where.ts', import.meta.url));
const sshConfig = `${sshTestbed().state}/ssh_config`;
const login = ['-F', sshConfig, '-l', 'mitouser1', '-i', asUser1('h1').identityFile, '-o', `UserKnownHostsFile ${sshTestbed().knownHosts}`];

function mitogenTs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 90_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

for (const client of ['ssh2', 'openssh']) {
  test(`${client}: exec on three aliases and a dead host: each line prefixed by its host, a summary naming it, status 2`, async (t) => {
    const dead = deadAddress();
    const r = await mitogenTs(['exec', 'h1', 'h2', 'h3', dead, ...login, '--client', client, '-t', '8', '--', 'uname -n; echo oops >&2']);
    t.is(r.code, 2, r.stderr);
    // Names are padded to the widest target, the dead address.
    t.deepEqual(r.stdout.trim().split('\n').sort(), ['h1', 'h2', 'h3'].map((h) => `${h.padEnd(dead.length)} | ${h}`));
    for (const h of ['h1', 'h2', 'h3']) t.true(r.stderr.includes(`${h.padEnd(dead.length)} | oops`), r.stderr);
    const deadRe = dead.replaceAll('.', '\\.');
    t.regex(r.stderr, new RegExp(`\\[\\d/4\\] ${deadRe} FAILED: `));
    t.regex(r.stderr, new RegExp(`3 ok, 1 failed, [\\d.]+ s: ${deadRe}\n$`));
  });
}

test('exec: every host succeeding is status 0; a command failing on one is status 1, naming its exit status', async (t) => {
  const ok = await mitogenTs(['exec', '-H', 'h4,h5', ...login, '-q', '--parallel', '2', '--', 'true']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stderr, /^2 ok, 0 failed/m);
  const bad = await mitogenTs(['exec', 'h4', 'h5', ...login, '--', 'sh', '-c', 'test "$(uname -n)" = h4']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /h5 FAILED: exit status 1/);
});

test('run: the module\'s default export runs in every target (forwarded, TypeScript transpiled) and prints its result as JSON lines', async (t) => {
  const r = await mitogenTs(['run', 'h6', 'h7', ...login, '-q', '--', where, 'a', 'b']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n').sort(), ['h6 | {"host":"h6","args":["a","b"]}', 'h7 | {"host":"h7","args":["a","b"]}']);
});

test('usage errors: status 2 and the usage, naming what was wrong', async (t) => {
  for (const [args, why] of [[['exec', 'h1'], /no command given after --/], [['exec', '--', 'true'], /no targets given/],
    [['frobnicate'], /unknown command "frobnicate"/], [['exec', 'h1', '--bogus', '--', 'true'], /unknown option --bogus/],
    [['exec', 'h1', '-c', 'many', '--', 'true'], /-c needs a number/]] as const) {
    const r = await mitogenTs([...args]);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, why);
    t.regex(r.stderr, /usage: mitogen-ts exec/);
  }
});
