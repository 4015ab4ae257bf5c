/** The ssh2 client's default identity files: with no identityFile it offers ~/.ssh/id_ed25519, id_ecdsa and id_rsa, as ssh does. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Router } from '../../src/index.js';
import { routerFor } from '../helpers.js';
import { asUser1 } from '../testbed.js';

/**
 * A context whose ~/.ssh holds the testbed's key (an ed25519 key) under
 * `name`: a private mount namespace where a fresh directory is bound over
 * the user's ~/.ssh. (ssh, and so the ssh2 client resolving with it, finds
 * ~ from the password database, not $HOME.)
 */
async function homeWithKey(t: ExecutionContext, router: Router, name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mitogen-ts-ssh2-home-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(asUser1('h1').identityFile, join(dir, name));
  const dotSsh = join(userInfo().homedir, '.ssh');
  mkdirSync(dotSsh, { recursive: true, mode: 0o700 });
  return router.local({ nodePath: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `mount --bind '${dir}' '${dotSsh}' && exec node "$@"`, 'sh'] });
}

test('ssh2 with no identityFile logs in with ~/.ssh/id_ed25519; a key under another name is not offered', async (t) => {
  const router = routerFor(t);
  const { identityFile: _unused, ...noIdentity } = asUser1('h1');
  const withDefault = await homeWithKey(t, router, 'id_ed25519');
  const ctx = await router.ssh({ ...noIdentity, client: 'ssh2', via: withDefault });
  t.is(await ctx.call(() => require('node:os').hostname() as string), 'h1');
  const withOther = await homeWithKey(t, router, 'id_something_else');
  const err = await t.throwsAsync(router.ssh({ ...noIdentity, client: 'ssh2', via: withOther }));
  t.regex(err!.message, /Permission denied \(publickey/);
});
