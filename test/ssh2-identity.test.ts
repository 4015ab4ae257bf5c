/** The ssh2 client's default identity files: with no identityFile it offers ~/.ssh/id_ed25519, id_ecdsa and id_rsa, as ssh does. */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Router } from '../src/index.js';
import { routerFor } from './helpers.js';
import { asUser1 } from './testbed.js';

/** A context whose home holds the testbed's key (an ed25519 key) under `name` in ~/.ssh. */
async function homeWithKey(t: ExecutionContext, router: Router, name: string) {
  const home = mkdtempSync(join(tmpdir(), 'mitogen-ts-ssh2-home-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  copyFileSync(asUser1('h1').identityFile, join(home, '.ssh', name));
  return router.local({ nodePath: ['env', `HOME=${home}`, 'node'] });
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
