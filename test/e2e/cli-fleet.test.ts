/**
 * The `mitogen-ts` bin against the real sshd test hosts: reruns from
 * --failed-file, explicit user@host:port targets, --json in full, become
 * with a password, `run` with a package only the master has, --via,
 * --group, --local and --docker.
 *
 * Serial: each test starts real ssh logins by the handful, on a machine whose cores are shared.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';
import { asUser1, deadAddress, host, sshTestbed } from '../testbed.js';
import { cli, login, mitogenTs, tableRows } from '../fixtures/cli-run.js';

const scratch = (t: { teardown(fn: () => void): void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'mitogen-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test.serial('--failed-file names a failed command\'s host and an unreachable one; a rerun with --hosts-file of it tries exactly those', async (t) => {
  const dead = deadAddress();
  const failed = join(scratch(t), 'failed');
  const first = await mitogenTs(['exec', 'h13', 'h14', dead, 'h15', ...login(), '-t', '20', '--failed-file', failed, '--',
    'sh', '-c', 'uname -n; test "$(uname -n)" != h14']);
  t.is(first.code, 2, first.stderr);
  // The live hosts' output is complete, whatever the dead one did.
  t.deepEqual(first.stdout.trim().split('\n').sort(), ['h13', 'h14', 'h15'].map((h) => `${h.padEnd(dead.length)} | ${h}`));
  t.is(readFileSync(failed, 'utf8'), `h14\n${dead}\n`);
  t.deepEqual(tableRows(first.stderr).map((r) => r.slice(0, 3)), [['h13', 'ok', '0'], ['h14', 'failed', '1'], [dead, 'unreachable', '-'], ['h15', 'ok', '0']]);
  t.regex(first.stderr, new RegExp(`\n2 ok, 2 failed, [\\d.]+ s: h14 ${dead.replaceAll('.', '\\.')}\n$`));

  const again = await mitogenTs(['exec', '--hosts-file', failed, ...login(), '-t', '20', '--failed-file', failed, '--', 'uname -n']);
  t.is(again.code, 2, again.stderr);
  t.is(again.stdout, `${'h14'.padEnd(dead.length)} | h14\n`);
  t.deepEqual(tableRows(again.stderr).map((r) => r.slice(0, 2)), [['h14', 'ok'], [dead, 'unreachable']]);
  t.is(readFileSync(failed, 'utf8'), `${dead}\n`);
});

test.serial('user@host:port targets: the user and port given in the target are the ones used (a closed port is unreachable)', async (t) => {
  const { addr } = host('h16');
  const keys = ['-i', asUser1('h16').identityFile, '-o', `UserKnownHostsFile ${sshTestbed().knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'];
  // -l root would win if the target's own user were ignored.
  const r = await mitogenTs(['exec', `mitouser1@${addr}:22`, `mitouser1@${addr}:1`, '-l', 'root', ...keys, '-t', '20', '--', 'echo "$(id -un)@$(uname -n)"']);
  t.is(r.code, 2, r.stderr);
  const w = `mitouser1@${addr}:22`.length;
  t.is(r.stdout, `${`mitouser1@${addr}:22`.padEnd(w)} | mitouser1@h16\n`);
  const rows = tableRows(r.stderr);
  t.deepEqual(rows.map((x) => x.slice(0, 2)), [[`mitouser1@${addr}:22`, 'ok'], [`mitouser1@${addr}:1`, 'unreachable']]);
  t.regex(rows[1]![4]!, /refused/i);
});

interface HostJson { host: string; status: string; exitCode: number | null; signal: string | null; ms: number; stdout?: string; stderr?: string; error?: { type: string; message: string } }

test.serial('--json: stdout is one NDJSON object per host, with its whole output, exit status, timing and error', async (t) => {
  const dead = deadAddress();
  const r = await mitogenTs(['exec', 'h17', dead, 'h18', ...login(), '--json', '-t', '20', '--',
    'sh', '-c', 'uname -n; printf "two\\nlines" >&2; test "$(uname -n)" = h17']);
  t.is(r.code, 2, r.stderr);
  t.true(r.stdout.endsWith('\n'));
  const objects = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as HostJson);
  for (const o of objects) {
    t.true(Number.isInteger(o.ms) && o.ms >= 0 && o.ms < 60_000, String(o.ms));
    o.ms = 0;
  }
  const deadOne = objects.find((o) => o.host === dead);
  // Timed out, or (once the bridge's ARP gives up) "No route to host": either way typed, and naming the host.
  t.true(deadOne?.error?.message.includes(dead), deadOne?.error?.message);
  t.regex(deadOne?.error?.type ?? '', /^[A-Z]\w*Error$/);
  t.deepEqual(objects.sort((a, b) => a.host.localeCompare(b.host)), [
    { host: dead, status: 'unreachable', exitCode: null, signal: null, ms: 0, error: deadOne!.error! },
    { host: 'h17', status: 'ok', exitCode: 0, signal: null, ms: 0, stdout: 'h17\n', stderr: 'two\nlines' },
    { host: 'h18', status: 'failed', exitCode: 1, signal: null, ms: 0, stdout: 'h18\n', stderr: 'two\nlines', error: { type: 'CommandFailed', message: 'exit status 1' } },
  ].sort((a, b) => a.host.localeCompare(b.host)));
});

test.serial('--sudo=mitouser2 after ssh as mitouser1, the password from MITOGEN_BECOME_PASSWORD; a wrong one is a PasswordError, status 2', async (t) => {
  const ok = await mitogenTs(['exec', 'h19', 'h20', ...login(), '--sudo=mitouser2', '-t', '30', '--', 'echo "$(id -un)@$(uname -n)"'],
    { ...process.env, MITOGEN_BECOME_PASSWORD: 'mitouser1_password' });
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(ok.stdout.trim().split('\n').sort(), ['h19 | mitouser2@h19', 'h20 | mitouser2@h20']);
  const bad = await mitogenTs(['exec', 'h19', ...login(), '--sudo=mitouser2', '-t', '30', '--', 'id -un'],
    { ...process.env, MITOGEN_BECOME_PASSWORD: 'wrong' });
  t.is(bad.code, 2, bad.stderr);
  t.is(bad.stdout, '');
  t.deepEqual(tableRows(bad.stderr).map((r) => r.slice(0, 2)), [['h19', 'unreachable']]);
  t.regex(bad.stderr, /PasswordError: sudo password is incorrect/);
});

test.serial('--su=mitouser2 (the target user\'s password) and --doas=mitouser2 (the caller\'s) after ssh as mitouser1', async (t) => {
  for (const [flag, password] of [['--su=mitouser2', 'mitouser2_password'], ['--doas=mitouser2', 'mitouser1_password']] as const) {
    const r = await mitogenTs(['exec', 'h43', ...login(), flag, '-t', '30', '--', 'id -un'], { ...process.env, MITOGEN_BECOME_PASSWORD: password });
    t.is(r.code, 0, `${flag}: ${r.stderr}`);
    t.is(r.stdout, 'h43 | mitouser2\n', flag);
  }
});

test.serial('run: a TypeScript module importing a package that only the master can read (a root-only 0700 directory) is forwarded with it', async (t) => {
  const dir = scratch(t);
  t.is(statSync(dir).mode & 0o777, 0o700, 'mkdtemp makes it private to root');
  const fixtures = fileURLToPath(new URL('../fixtures/cli-hidden/', import.meta.url));
  cpSync(join(fixtures, 'task.ts'), join(dir, 'task.ts'));
  // An ESM project, as this one is: without it the module would be CommonJS, which cannot require() an ES package on Node 20.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(dir, 'node_modules'));
  cpSync(join(fixtures, 'pkg'), join(dir, 'node_modules', 'cli-hidden-pkg'), { recursive: true });
  chmodSync(dir, 0o700);
  const pkgDir = join(dir, 'node_modules', 'cli-hidden-pkg');
  const r = await mitogenTs(['run', 'h21', 'h22', ...login(), '--json', '-t', '30', '--', join(dir, 'task.ts'), pkgDir]);
  t.is(r.code, 0, r.stderr);
  const results = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { host: string; status: string; result: unknown }).sort((a, b) => a.host.localeCompare(b.host));
  t.deepEqual(results.map(({ host: h, status, result }) => ({ host: h, status, result })), ['h21', 'h22'].map((h) => ({
    host: h, status: 'ok', result: { user: 'mitouser1', secret: 'hidden-x', packageOnDisk: false },
  })));
});

test.serial('--via: every target is reached through the jump host (its address is the ssh client they see); a dead jump host fails them all, status 2', async (t) => {
  const jump = host('h23').addr;
  const r = await mitogenTs(['exec', 'h24', 'h25', '--via', 'h23', ...login(), '-t', '30', '--', 'sh', '-c', 'echo "${SSH_CLIENT%% *}"']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n').sort(), [`h24 | ${jump}`, `h25 | ${jump}`]);
  // Two hops: h23, then h38 through it; the target sees the last hop.
  const two = await mitogenTs(['exec', 'h24', '--via', 'h23', '--via', 'h38', ...login(), '-t', '30', '--', 'sh', '-c', 'echo "${SSH_CLIENT%% *}"']);
  t.is(two.code, 0, two.stderr);
  t.is(two.stdout, `h24 | ${host('h38').addr}\n`);
  const direct = await mitogenTs(['exec', 'h24', ...login(), '-t', '30', '--', 'sh', '-c', 'echo "${SSH_CLIENT%% *}"']);
  t.not(direct.stdout, `h24 | ${jump}\n`, 'without --via the client is not the jump host');
  const dead = await mitogenTs(['exec', 'h24', 'h25', '--via', deadAddress(), ...login(), '-t', '20', '--', 'true']);
  t.is(dead.code, 2, dead.stderr);
  t.deepEqual(tableRows(dead.stderr).map((x) => x.slice(0, 2)), [['h24', 'unreachable'], ['h25', 'unreachable']]);
});

/** Runs the bin, calling `on(line)` for each stdout line as it arrives; `on` may act on the hosts (raise a flag) while it runs. */
function streaming(args: readonly string[], on: (line: string) => void): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    createInterface({ input: p.stdout }).on('line', (l) => { lines.push(l); on(l); });
    p.on('close', (code) => resolve({ code, lines, stderr }));
  });
}

test.serial('--group: each host\'s lines come out together when it ends, where live output interleaves them', async (t) => {
  const dir = scratch(t);
  chmodSync(dir, 0o777); // the hosts share this filesystem; mitouser1 raises flags there
  const wait = (f: string) => `while [ ! -e ${f} ]; do sleep 0.05; done`;
  // h36 prints one, [raises b itself], waits for a, prints two; h37 waits for b, prints other. The waits end with -t at worst.
  const cmd = (a: string, b: string, selfB: boolean) =>
    `case "$(uname -n)" in h36) echo one; ${selfB ? `touch ${b}; ` : ''}${wait(a)}; echo two;; *) ${wait(b)}; echo other;; esac`;
  const flags = (name: string) => ({ a: join(dir, `${name}-a`), b: join(dir, `${name}-b`) });

  // Live: the test raises b once it has seen h36's "one", and a once it has seen h37's "other": the lines must interleave.
  const l = flags('live');
  const live = await streaming(['exec', 'h36', 'h37', ...login(), '-q', '-t', '30', '--', cmd(l.a, l.b, false)], (line) => {
    if (line === 'h36 | one') writeFileSync(l.b, '');
    if (line === 'h37 | other') writeFileSync(l.a, '');
  });
  t.is(live.code, 0, live.stderr);
  t.deepEqual(live.lines, ['h36 | one', 'h37 | other', 'h36 | two']);

  // Grouped: h36 raises b after "one", but that line is held until h36 ends, which is after h37's block (a is raised on seeing it).
  const g = flags('grouped');
  const grouped = await streaming(['exec', 'h36', 'h37', ...login(), '-q', '--group', '-t', '30', '--', cmd(g.a, g.b, true)], (line) => {
    if (line === 'h37 | other') writeFileSync(g.a, '');
  });
  t.is(grouped.code, 0, grouped.stderr);
  t.deepEqual(grouped.lines, ['h37 | other', 'h36 | one', 'h36 | two']);
});

test.serial('run: a module that throws on one host makes that host failed (CallError, naming the remote error) and the status 1', async (t) => {
  const module = fileURLToPath(new URL('../fixtures/cli-fails.ts', import.meta.url));
  const r = await mitogenTs(['run', 'h41', 'h42', ...login(), '-t', '30', '--', module, 'h42']);
  t.is(r.code, 1, r.stderr);
  t.is(r.stdout, 'h41 | "h41"\n');
  const rows = tableRows(r.stderr);
  t.deepEqual(rows.map((x) => x.slice(0, 3)), [['h41', 'ok', '-'], ['h42', 'failed', '-']]);
  t.regex(rows[1]![4]!, /^CallError: .*RangeError.*not on h42/);
});

test.serial('--local and --docker targets: a local child and a container; a missing container fails, and the failed file says how to rerun it', async (t) => {
  const failed = join(scratch(t), 'failed');
  const r = await mitogenTs(['exec', '--local', '--docker', 'mito-docker1,nosuch', '-t', '30', '--failed-file', failed, '--', 'uname -n']);
  t.is(r.code, 2, r.stderr);
  const w = 'docker:mito-docker1'.length;
  t.deepEqual(r.stdout.trim().split('\n').sort(), [`${'docker:mito-docker1'.padEnd(w)} | mito-docker1`, `${'local'.padEnd(w)} | ${hostname()}`]);
  t.deepEqual(tableRows(r.stderr).map((x) => x.slice(0, 2)), [['local', 'ok'], ['docker:mito-docker1', 'ok'], ['docker:nosuch', 'unreachable']]);
  t.regex(r.stderr, /No such container: nosuch/);
  t.is(readFileSync(failed, 'utf8'), '# docker:nosuch (rerun with --docker nosuch)\n');
});

test.serial('--connect-timeout bounds each bootstrap: a dead host is given up after that many seconds, named in its error', async (t) => {
  const dead = deadAddress();
  const r = await mitogenTs(['exec', dead, 'h17', ...login(), '--client', 'ssh2', '--connect-timeout', '3', '-t', '30', '--', 'uname -n']);
  t.is(r.code, 2, r.stderr);
  t.is(r.stdout, `${'h17'.padEnd(dead.length)} | h17\n`);
  t.regex(r.stderr, new RegExp(`${dead.replaceAll('.', '\\.')} +unreachable +- +[\\d.]+ s +TimeoutError: Failed to setup connection after 3 seconds`));
});
