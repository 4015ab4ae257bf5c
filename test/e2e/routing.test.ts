import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ChannelError, currentRouter, Message, Receiver } from '../../src/index.js';
import { collectLogs, routerFor, waitUntil } from '../helpers.js';

test('via builds a chain; each hop is a child of the one before', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const b = await router.local({ via: a });
  const c = await router.local({ via: b });
  const [pa, pb, pc] = await Promise.all([a, b, c].map((x) => x.call(() => [process.pid, process.ppid])));
  t.is(pb![1], pa![0]);
  t.is(pc![1], pb![0]);
  t.is(await c.call((x: string) => `${x} from the third hop`, 'hi'), 'hi from the third hop');
  t.is(router.contextById(c.contextId), c);
});

test('a context whose main thread is busy still routes to its children', async (t) => {
  const router = routerFor(t);
  const middle = await router.local();
  const leaf = await router.local({ via: middle });
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-busy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const release = join(dir, 'release');
  const started = join(dir, 'started');
  // The middle context spins synchronously until we create the release file, or the
  // test's teardown removes the directory (the bound: the spin ends with the test).
  const busy = middle.call((startFile: string, file: string) => {
    const fs = require('node:fs');
    const path = require('node:path');
    fs.writeFileSync(startFile, '');
    while (!fs.existsSync(file) && fs.existsSync(path.dirname(file))) { /* busy */ }
    return fs.existsSync(file) ? 'released' : 'gave up';
  }, started, release);
  let busyDone = false;
  void busy.then(() => { busyDone = true; });
  await leaf.call(() => 1); // establishes nothing: the leaf answers regardless
  await waitUntil(() => existsSync(started), 30, 'the middle context is busy');
  // The middle's main thread is now stuck; its broker worker must still route.
  const results = [];
  for (let i = 0; i < 20; i++) results.push(await leaf.call((n: number) => n * 2, i));
  t.false(busyDone, 'the middle context was still busy while its child answered');
  t.deepEqual(results, Array.from({ length: 20 }, (_, i) => i * 2));
  writeFileSync(release, '');
  t.is(await busy, 'released');
});

test('a child can start its own child with an id leased from the master, and the master reaches it', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const id = await a.call(async () => {
    const r = currentRouter()!;
    const g = await r.local({ name: 'made-by-child' });
    return g.contextId;
  });
  // The child leased a block of ids: the master's next context gets an id past that block.
  const next = await router.local();
  t.true(next.contextId >= id + 999, `leased id ${id}, master's next ${next.contextId}`);
  const g = router.contextById(id)!;
  t.truthy(g, 'the master learnt the route by ADD_ROUTE');
  t.is(g.name, 'made-by-child');
  t.is(await g.call(() => 'reached'), 'reached');
});

test('a message whose auth id does not route back through its stream is dropped and logged', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const logs = collectLogs(t);
  const rx = new Receiver(router);
  const seen: unknown[] = [];
  void (async () => { for await (const m of rx) seen.push(m.decode()); })();
  // The child forges frames straight to its broker: one claiming to be the master, one honest.
  await child.call(async (handle: number) => {
    const r = currentRouter()!;
    const forged = Message.encoded('forged', { dstId: 0, handle });
    forged.srcId = 0;
    forged.authId = 0;
    r.broker.send(forged.toFrame());
    const honest = Message.encoded('honest', { dstId: 0, handle, srcId: r.myId, authId: r.myId });
    r.broker.send(honest.toFrame());
  }, rx.handle);
  while (!seen.length) await new Promise((r) => setImmediate(r));
  t.deepEqual(seen, ['honest']);
  t.true(logs.some((l) => /bad auth_id/.test(l.text)), 'the drop was logged');
});

test('a child cannot make its parent run code, nor call a sibling', async (t) => {
  const router = routerFor(t);
  const a = await router.local();
  const b = await router.local();
  const toParent = await a.call(async () => {
    try {
      await currentRouter()!.contextFor(0).call(() => 'parent ran child code');
      return 'ran';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  });
  t.regex(toParent, /^ChannelError: invalid handle 101/);
  const toSibling = await a.call(async (id: number) => {
    try {
      return await currentRouter()!.contextFor(id).call(() => 'sibling ran');
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  }, b.contextId);
  t.regex(toSibling, /^ChannelError: message refused by policy/);
});

test('unidirectional mode refuses child-to-sibling traffic in the broker', async (t) => {
  const router = routerFor(t);
  router.unidirectional = true;
  const a = await router.local();
  const b = await router.local();
  // b counts what reaches its handler.
  const rxOnB = await b.call(() => {
    const r = currentRouter()!;
    const g = globalThis as { got?: number };
    g.got = 0;
    return r.addHandler(() => { g.got!++; }, {});
  });
  const result = await a.call(async (id: number, handle: number) => {
    const r = currentRouter()!;
    const rx = r.contextFor(id).sendAsync(Message.encoded('hi', { handle }));
    try { await rx.get({ timeout: 10 }); return { delivered: true }; } catch (e) {
      return { text: `${(e as Error).name}: ${(e as Error).message}`, isChannelError: e instanceof ChannelError };
    }
  }, b.contextId, rxOnB);
  t.like(result, { isChannelError: true });
  t.regex((result as { text?: string }).text ?? '', /ChannelError: unidirectional routing refuses/);
  // Anything the master forwarded would be on b's stream ahead of this call.
  t.is(await b.call(() => (globalThis as { got?: number }).got), 0, 'the message never reached b');
});
