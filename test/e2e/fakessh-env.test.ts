/** fakessh.run's cwd and env, the variables it drops, the remote side's home directory, and the real sftp client. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakessh } from '../../src/index.js';
import { routerFor, tempDirFor } from '../helpers.js';

const tempDir = (t: ExecutionContext): string => tempDirFor(t, 'mitogen-ts-fakessh-env-');

test('cwd and env reach the local program; without env it inherits ours, less GIT_SSH, GIT_SSH_COMMAND and RSYNC_RSH', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const dir = tempDir(t);
  const r = await fakessh.run(ctx, ['sh', '-c', 'pwd; echo "$FOO"'], { cwd: dir, env: { FOO: 'given' } });
  t.deepEqual(r, { code: 0, signal: null, stdout: `${dir}\ngiven\n`, stderr: '' });
  const saved = { ...process.env };
  t.teardown(() => { for (const k of ['GIT_SSH', 'GIT_SSH_COMMAND', 'RSYNC_RSH', 'MT_INHERITED']) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; } });
  Object.assign(process.env, { GIT_SSH: '/bin/false', GIT_SSH_COMMAND: 'false', RSYNC_RSH: 'false', MT_INHERITED: 'yes' });
  const show = 'echo "${GIT_SSH-unset} ${GIT_SSH_COMMAND-unset} ${RSYNC_RSH-unset} ${MT_INHERITED-unset}"';
  t.is((await fakessh.run(ctx, ['sh', '-c', show])).stdout, 'unset unset unset yes\n', 'inherited: dropped, the rest kept');
  // Given explicitly, they are the caller's choice and stay.
  t.is((await fakessh.run(ctx, ['sh', '-c', show], { env: { GIT_SSH: 'mine' } })).stdout, 'mine unset unset unset\n');
});

test('the remote command runs in the context\'s home directory, as ssh\'s would', async (t) => {
  const router = routerFor(t);
  // A context as mitouser1, started from a directory that is not its home.
  const ctx = await router.local({ nodePath: ['sh', '-c', 'cd /tmp && exec runuser -u mitouser1 -- node "$@"', 'sh'] });
  t.is(await ctx.call(() => process.cwd()), '/tmp');
  t.is((await fakessh.run(ctx, ['ssh', 'host', 'pwd; id -un'])).stdout, '/home/mitouser1\nmitouser1\n');
});

test('the real sftp client: put and get through the context\'s sftp-server', async (t) => {
  const router = routerFor(t);
  // The server side runs as mitouser1: what it writes is mitouser1's, which shows where it ran.
  const ctx = await router.local({ nodePath: ['runuser', '-u', 'mitouser1', '--', 'node'] });
  const dir = tempDir(t);
  chmodSync(dir, 0o777);
  const data = randomBytes(300 * 1024);
  writeFileSync(join(dir, 'up.bin'), data);
  const batch = join(dir, 'batch');
  writeFileSync(batch, `put ${dir}/up.bin ${dir}/remote.bin\nget ${dir}/remote.bin ${dir}/down.bin\n`);
  // sftp runs ssh by absolute path: fakessh adds -S itself.
  const r = await fakessh.run(ctx, ['sftp', '-b', batch, 'somehost']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(readFileSync(join(dir, 'down.bin')), data);
  t.deepEqual(readFileSync(join(dir, 'remote.bin')), data);
  t.is(statSync(join(dir, 'remote.bin')).uid, 1001, 'written by the context\'s sftp-server');
});
