import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Broker, ChannelError, currentRouter, Message, PROFILE_DIR, Receiver, Router } from '../../src/index.js';
import { collectLogs, routerFor, waitUntil } from '../helpers.js';

test('profiling writes a CPU profile in the child when it exits', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local({ profiling: true });
  const pid = await ctx.call(() => { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return process.pid; });
  await ctx.shutdown({ wait: true });
  const mine = () => (existsSync(PROFILE_DIR) ? readdirSync(PROFILE_DIR).filter((f) => f.includes(`.${pid}.`)) : []);
  await waitUntil(() => mine().length > 0, 10, 'the profile is written');
  const profile = JSON.parse(readFileSync(join(PROFILE_DIR, mine()[0]!), 'utf8')) as { nodes: unknown[] };
  t.true(profile.nodes.length > 0);
  for (const f of mine()) rmSync(join(PROFILE_DIR, f));
});

test('debug: the child\'s runtime records reach the master at debug level', async (t) => {
  const router = routerFor(t);
  const records = collectLogs(t);
  const quiet = await router.local({ name: 'quiet' });
  const loud = await router.local({ name: 'loud', debug: true });
  // Each starts a child of its own, then shuts it down: the broker logs that at debug level.
  for (const ctx of [quiet, loud]) {
    await ctx.call(async () => { const g = await currentRouter()!.local(); await g.shutdown({ wait: true }); });
  }
  await waitUntil(() => records.some((r) => r.level === 'debug' && r.name === 'loud'), 10, 'a debug record from loud');
  // What quiet logged comes up its stream in order: once a line it prints after the work has arrived, so has any debug record.
  await quiet.call(() => console.log('quiet is done'));
  await waitUntil(() => records.some((r) => r.name === 'quiet' && r.text === 'quiet is done'), 10, 'quiet\'s last line arrives');
  t.deepEqual(records.filter((r) => r.level === 'debug' && r.name === 'quiet'), []);
});

test('logToFile sends forwarded records to a file instead of stderr', async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mitogen.log');
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { runWithRouter, logToFile } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
    logToFile(${JSON.stringify(file)});
    await runWithRouter(async (r) => { const c = await r.local({ name: 'filed' }); await c.call(() => console.log('into the file')); });
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stderr, /into the file/);
  t.regex(readFileSync(file, 'utf8'), /\[filed\] into the file/);
});

test('addHandler, route and policies: the low-level message API', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  t.is(router.myself().contextId, 0);
  t.is(router.contextById(ctx.contextId), ctx);
  // A persistent handler in the master that echoes; the child sends to it and awaits the reply.
  const seen: number[] = [];
  // Dead messages are skipped: every handler gets one when the router shuts down (as Mitogen's).
  const echo = router.addHandler((msg) => { if (msg.isDead) return; seen.push(msg.srcId); msg.reply({ echoed: msg.decode() }); });
  const reply = await ctx.call(async (handle: number) => {
    const r = currentRouter()!;
    const rx = r.contextFor(0).sendAsync(Message.encoded('ping', { handle }));
    return (await rx.get({ timeout: 10 })).decode();
  }, echo);
  t.deepEqual(reply, { echoed: 'ping' });
  t.deepEqual(seen, [ctx.contextId]);
  // A policy refusing everything: the sender gets a dead reply, i.e. ChannelError.
  const closed = router.addHandler((msg) => { if (!msg.isDead) t.fail('must not run'); }, { policy: () => false });
  const refused = await ctx.call(async (handle: number) => {
    const rx = currentRouter()!.contextFor(0).sendAsync(Message.encoded('x', { handle }));
    try { await rx.get({ timeout: 10 }); return 'delivered'; } catch (e) { return (e as Error).message; }
  }, closed);
  t.regex(refused, /message refused by policy/);
  // Messages to this context's own handles are delivered locally.
  const rx = new Receiver(router);
  router.route(Message.encoded(7, { dstId: 0, handle: rx.handle }));
  t.is((await rx.get({ timeout: 5 })).decode(), 7);
  rx.close();
  await t.throwsAsync(rx.get(), { instanceOf: ChannelError, message: 'the Receiver has been closed' });
});

test('Broker and Router shutdown are idempotent and a bare Router can be shut down twice', async (t) => {
  const broker = new Broker();
  const router = new Router(broker);
  await router.local();
  await Promise.all([router.shutdown(), broker.shutdown(), router.shutdown()]);
  await broker.shutdown();
  t.true(router.isShutdown);
});
