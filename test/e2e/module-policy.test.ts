/**
 * What a child may ask the master's module responder for (GET_MODULE), end to
 * end: any module source file the master can read — any path, asked for
 * directly — and nothing else. docs/security.md states this policy.
 */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CallError, currentRouter, handles, Message } from '../../src/index.js';
import type { Context } from '../../src/index.js';
import { collectLogs, hidingNodePath, routerFor } from '../helpers.js';

type Reply = { ok: true; value: { url: string; format: string; source?: Uint8Array } } | { ok: false; why: { code: string; message: string } };

/** Sends GET_MODULE from the child's main thread straight to the master, as a hostile child could. */
function ask(ctx: Context, spec: string): Promise<Reply> {
  return ctx.call(async (s: string, handle: number) => {
    const rx = currentRouter()!.contextFor(0).sendAsync(Message.encoded({ spec: s, parent: '/', kind: 'require' }, { handle }));
    return (await rx.get({ timeout: 10 })).decode() as Reply;
  }, spec, handles.GET_MODULE);
}

test('a child gets any module source file the master can read, by absolute path; other files are refused', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-policy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'settings.json'), '{"token":"only the master should see this"}');
  chmodSync(join(dir, 'settings.json'), 0o600);
  writeFileSync(join(dir, 'notes.txt'), 'plain text');
  symlinkSync('/etc/shadow', join(dir, 'shadow.js'));

  const served = await ask(ctx, join(dir, 'settings.json'));
  t.true(served.ok && new TextDecoder().decode(served.value.source).includes('only the master should see this'), 'a .json file anywhere is served: the policy is by extension, not by location');

  for (const [path, why] of [[join(dir, 'notes.txt'), /\.txt files are not module sources/], ['/etc/shadow', /no module source extension/], [join(dir, 'shadow.js'), /Refusing to serve file:\/\/\/etc\/shadow/]] as const) {
    const r = await ask(ctx, path);
    t.true(!r.ok && r.why.code === 'ERR_MODULE_REFUSED', `${path}: ${JSON.stringify(r)}`);
    t.regex(r.ok ? '' : r.why.message, why);
  }
});

test('denyModules and allowModules: a refused module fails the import in the child, naming it and the rule; the master logs who asked', async (t) => {
  const router = routerFor(t);
  const fixtures = fileURLToPath(new URL('../fixtures/forwarding/', import.meta.url));
  const records = collectLogs(t);
  const ctx = await router.local({ nodePath: hidingNodePath(fixtures) });
  await router.denyModules(`${fixtures}cjs`);
  // Denied: the CommonJS fixture. Still served: the ESM one, elsewhere under the same directory.
  const err = await t.throwsAsync(ctx.call(() => require('../fixtures/forwarding/cjs/main.cjs').total), { instanceOf: CallError });
  t.regex(err!.message, /fixtures\/forwarding\/cjs\/main\.cjs.*denied by the master's module policy \(deny .*fixtures\/forwarding\/cjs\)/);
  t.is(await ctx.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), 42);
  t.true(records.some((r) => r.level === 'warn' && /refused module .*main\.cjs to .*local\.\d+ \(context \d+\)/.test(r.text)), 'the refusal is logged with the asking context');

  // An allow list: what it does not name is refused, even what was served before it was set.
  const other = await router.local({ nodePath: hidingNodePath(fixtures) });
  await router.allowModules('/nonexistent/only-this');
  const err2 = await t.throwsAsync(other.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), { instanceOf: CallError });
  t.regex(err2!.message, /not in the master's module allow list \(\/nonexistent\/only-this\)/);
});

test('module policy belongs to the master: a child\'s router refuses to set one', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const err = await t.throwsAsync(ctx.call(() => currentRouter()!.denyModules('x')), { instanceOf: CallError });
  t.regex(err!.message, /module policy is the master's/);
});
