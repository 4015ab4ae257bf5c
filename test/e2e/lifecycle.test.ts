import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ChannelError, MitogenError, Router } from '../../src/index.js';
import type { RouterEvent } from '../../src/index.js';
import { pidAlive, routerFor, waitUntil } from '../helpers.js';

const script = fileURLToPath(new URL('../fixtures/master-script.ts', import.meta.url));
const tsx = ['--import', 'tsx'];
const run = promisify(execFile);

async function runScript(mode: string): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...tsx, script, mode], { encoding: 'utf8', timeout: 60_000 });
    return { status: 0, ...r };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { status: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

test('SIGKILL of a child fails its pending calls with ChannelError and emits disconnect', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const events: RouterEvent[] = [];
  const sub = router.events.subscribe((e) => events.push(e));
  t.teardown(() => sub.unsubscribe());
  const pid = await ctx.call(() => process.pid);
  const pending = ctx.call(() => new Promise(() => {})); // never settles by itself
  process.kill(pid, 'SIGKILL');
  const err = await t.throwsAsync(pending, { instanceOf: ChannelError });
  t.regex(err!.message, /disconnected/);
  t.true(events.some((e) => e.type === 'disconnect' && e.context === ctx));
  // Later calls fail at once too.
  await t.throwsAsync(ctx.call(() => 1), { instanceOf: ChannelError });
});

test('SIGKILL of a middle context fails calls pending beyond it and disconnects both', async (t) => {
  const router = routerFor(t);
  const middle = await router.local();
  const leaf = await router.local({ via: middle });
  const gone: number[] = [];
  const sub = router.events.subscribe((e) => { if (e.type === 'disconnect') gone.push(e.context!.contextId); });
  t.teardown(() => sub.unsubscribe());
  const middlePid = await middle.call(() => process.pid);
  const leafPid = await leaf.call(() => process.pid);
  const pendingLeaf = leaf.call(() => new Promise(() => {}));
  const pendingMiddle = middle.call(() => new Promise(() => {}));
  process.kill(middlePid, 'SIGKILL');
  await t.throwsAsync(pendingLeaf, { instanceOf: ChannelError });
  await t.throwsAsync(pendingMiddle, { instanceOf: ChannelError });
  t.deepEqual(gone.sort(), [middle.contextId, leaf.contextId].sort());
  // The leaf's parent died: it exits by itself.
  await waitUntil(() => !pidAlive(leafPid), 5, 'the orphaned leaf exits');
  t.pass();
});

test('router.shutdown() leaves no child process behind, and is idempotent', async (t) => {
  const router = new Router();
  const a = await router.local();
  const b = await router.local({ via: a });
  const c = await router.local({ via: b });
  const pids = await Promise.all([a, b, c].map((x) => x.call(() => process.pid)));
  const events: string[] = [];
  router.events.subscribe((e) => events.push(e.type));
  const p1 = router.shutdown();
  const p2 = router.shutdown();
  t.is(p1, p2);
  await p1;
  for (const pid of pids) t.false(pidAlive(pid), `pid ${pid} is gone`);
  t.is(events.at(-1), 'shutdown');
  await router.broker.shutdown();
  await t.throwsAsync(router.local(), { instanceOf: MitogenError });
});

test('ctx.shutdown({ wait }) resolves when the context is gone, and at once when already gone', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const b = await router.local({ via: a });
  const pids = await Promise.all([a, b].map((x) => x.call(() => process.pid)));
  await a.shutdown({ wait: true });
  t.true(a.isDisconnected);
  t.true(b.isDisconnected);
  await waitUntil(() => pids.every((p) => !pidAlive(p)), 5, 'both processes exit');
  await a.shutdown({ wait: true }); // already gone: returns rather than blocking (Mitogen would block)
  t.pass();
});

test('a master script exits by itself and shows the child\'s forwarded output', async (t) => {
  const r = await runScript('runWithRouter');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /\[script-child\] hello from the child/);
  t.regex(r.stderr, /\[script-child\] WARN: and its stderr/);
  t.is(r.stdout, '');
});

test('a master script that never shuts down still exits by itself', async (t) => {
  const r = await runScript('forget');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /\[forgotten-child\] forgotten child speaks/);
});

test('when the master dies, its children and grandchildren exit', async (t) => {
  const master = spawn(process.execPath, [...tsx, script, 'tree'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    master.stdout.on('data', (d: Buffer) => { buf += d; if (buf.includes('\n')) resolve(buf.split('\n')[0]!); });
    master.on('exit', () => reject(new Error('master exited early')));
  });
  const pids = JSON.parse(line) as number[];
  t.true(pids.every(pidAlive));
  master.kill('SIGKILL');
  await waitUntil(() => pids.every((p) => !pidAlive(p)), 5, 'the orphaned subtree exits');
  t.pass();
});
