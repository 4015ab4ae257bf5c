import test from 'ava';
import type { ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fakessh } from '../../src/index.js';
import { parseSshArgs } from '../../src/ssh/ssh-args.js';
import { grandchildFor, tempDirFor } from '../helpers.js';

const tempDir = (t: ExecutionContext): string => tempDirFor(t, 'mitogen-ts-fakessh-test-');

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('the fake ssh reads its command line as OpenSSH does', (t) => {
  t.like(parseSshArgs(['-p', '22', '-oBatchMode=yes', '-l', 'bob', 'host', 'echo', 'a b']), { host: 'host', command: 'echo a b', subsystem: false });
  t.like(parseSshArgs(['-x', '-oForwardAgent=no', '-s', '--', 'host', 'sftp']), { host: 'host', command: 'sftp', subsystem: true });
  t.like(parseSshArgs(['host', '-p', '2222', 'rsync', '--server', '-e.LsfxC']), { host: 'host', command: 'rsync --server -e.LsfxC' });
  t.like(parseSshArgs(['-o', 'SendEnv=GIT_PROTOCOL', 'host', "git-upload-pack '/r'"]), { command: "git-upload-pack '/r'" });
  t.like(parseSshArgs(['-Tq', 'host']), { host: 'host', command: null });
  t.throws(() => parseSshArgs(['-p']), { message: 'option requires an argument -- p' });
});

test('a remote command\'s exit status, stdout and stderr come back through a grandchild; the fake ssh is removed afterwards', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const r = await fakessh.run(grandchild, ['ssh', 'somehost', 'echo out; echo err >&2; exit 7']);
  t.deepEqual(r, { code: 7, signal: null, stdout: 'out\n', stderr: 'err\n' });
  // The command runs in the grandchild, not here.
  const pid = await grandchild.call(() => process.pid);
  t.like(await fakessh.run(grandchild, ['ssh', '-l', 'u', '-p', '22', '-o', 'BatchMode=yes', 'h', 'echo', 'ok']), { code: 0, stdout: 'ok\n' });
  const ppid = Number((await fakessh.run(grandchild, ['ssh', 'h', 'echo $PPID'])).stdout);
  t.is(ppid, pid);
  // A signal ends the remote command: ssh's 255; stdin reaches it; a missing command is sh's 127.
  t.like(await fakessh.run(grandchild, ['ssh', 'h', 'kill -9 $$']), { code: 255 });
  t.like(await fakessh.run(grandchild, ['ssh', 'h', 'tr a-z A-Z'], { input: 'shout\n' }), { code: 0, stdout: 'SHOUT\n' });
  const missing = await fakessh.run(grandchild, ['ssh', 'h', 'no-such-command-xyz']);
  t.is(missing.code, 127);
  t.regex(missing.stderr, /no-such-command-xyz: not found/);
  const login = await fakessh.run(grandchild, ['ssh', 'h']);
  t.is(login.code, 255);
  t.regex(login.stderr, /login sessions are not supported/);
  // Where the fake ssh was, nothing is left.
  const where = (await fakessh.run(grandchild, ['sh', '-c', 'command -v ssh'])).stdout.trim();
  t.regex(where, /mitogen-ts-fakessh-[^/]+\/ssh$/);
  t.false(existsSync(dirname(where)), `${dirname(where)} was removed`);
});

test('64 MiB each way through the fake ssh, with a late reader: every byte arrives, in order', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  const file = join(dir, 'data.bin');
  writeFileSync(file, randomBytes(64 * 1024 * 1024));
  const sum = sha256(file);
  // Out of the remote command into a local pipe whose reader starts late (not a synchronisation:
  // it makes the window fill, so flow control holds the remote command back).
  const down = await fakessh.run(grandchild, ['sh', '-c', `ssh h "cat '${file}'" | (sleep 0.5; sha256sum)`]);
  t.is(down.code, 0, down.stderr);
  t.is(down.stdout.split(' ')[0], sum);
  // Into the remote command's stdin.
  const up = await fakessh.run(grandchild, ['sh', '-c', `cat '${file}' | ssh h sha256sum`]);
  t.is(up.code, 0, up.stderr);
  t.is(up.stdout.split(' ')[0], sum);
});

test('rsync -a copies a tree (binary files, a subdirectory, a symlink) into a grandchild\'s directory', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
  const files = ['a.bin', 'sub/b.bin', 'sub/deeper/c.bin', 'empty'];
  writeFileSync(join(src, 'a.bin'), randomBytes(3 * 1024 * 1024));
  writeFileSync(join(src, 'sub/b.bin'), randomBytes(100_000));
  writeFileSync(join(src, 'sub/deeper/c.bin'), randomBytes(7));
  writeFileSync(join(src, 'empty'), '');
  symlinkSync('sub/b.bin', join(src, 'link'));
  const dst = join(dir, 'dst');
  const r = await fakessh.run(grandchild, ['rsync', '-a', `${src}/`, `target:${dst}/`]);
  t.deepEqual(r, { code: 0, signal: null, stdout: '', stderr: '' });
  for (const f of files) t.is(sha256(join(dst, f)), sha256(join(src, f)), f);
  t.true(lstatSync(join(dst, 'link')).isSymbolicLink());
  t.is(readlinkSync(join(dst, 'link')), 'sub/b.bin');
  // And back, into a fresh directory here: rsync's sender now runs in the grandchild.
  const back = join(dir, 'back');
  t.like(await fakessh.run(grandchild, ['rsync', '-a', `target:${dst}/`, `${back}/`]), { code: 0 });
  for (const f of files) t.is(sha256(join(back, f)), sha256(join(src, f)), f);
  t.is(readlinkSync(join(back, 'link')), 'sub/b.bin');
});

test('scp both ways, in SFTP mode (the sftp-server runs in the context) and in the legacy protocol (-O)', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  const src = join(dir, 'src.bin');
  writeFileSync(src, randomBytes(2 * 1024 * 1024 + 5));
  for (const mode of [[], ['-O']]) {
    const name = mode.length ? 'legacy' : 'sftp';
    const there = join(dir, `${name}.there`);
    const back = join(dir, `${name}.back`);
    t.like(await fakessh.run(grandchild, ['scp', ...mode, src, `host:${there}`]), { code: 0, stderr: '' }, name);
    t.like(await fakessh.run(grandchild, ['scp', ...mode, `host:${there}`, back]), { code: 0, stderr: '' }, name);
    t.is(sha256(there), sha256(src), name);
    t.is(sha256(back), sha256(src), name);
  }
  // A missing remote file fails scp, with the far end's words.
  const r = await fakessh.run(grandchild, ['scp', '-O', `host:${join(dir, 'nope')}`, join(dir, 'x')]);
  t.not(r.code, 0);
  t.regex(r.stderr, /No such file or directory/);
});

test('git clone host:/path/repo through fakessh', async (t) => {
  const { grandchild } = await grandchildFor(t);
  const dir = tempDir(t);
  const repo = join(dir, 'repo');
  const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd }).toString();
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'README'), 'hello from the repository\n');
  writeFileSync(join(repo, 'data.bin'), randomBytes(200_000));
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'first');
  const head = git(repo, 'rev-parse', 'HEAD').trim();
  const clone = join(dir, 'clone');
  const r = await fakessh.run(grandchild, ['git', 'clone', `host:${repo}`, clone]);
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(join(clone, 'README'), 'utf8'), 'hello from the repository\n');
  t.is(sha256(join(clone, 'data.bin')), sha256(join(repo, 'data.bin')));
  t.is(git(clone, 'rev-parse', 'HEAD').trim(), head);
  // A repository that is not there: git says so, as over real ssh.
  const bad = await fakessh.run(grandchild, ['git', 'clone', `host:${join(dir, 'nope')}`, join(dir, 'clone2')]);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /does not appear to be a git repository|not a git repository|No such file/);
});
