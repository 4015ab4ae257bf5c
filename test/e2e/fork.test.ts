import test from 'ava';
import { isMainThread, threadId } from 'node:worker_threads';
import { CallError, ChannelError, currentRouter, fnRef } from '../../src/index.js';
import { collectLogs, fixturesDir, hidingNodePath, routerFor, waitUntil } from '../helpers.js';

const where = () => ({ pid: process.pid, threadId: require('node:worker_threads').threadId as number, main: require('node:worker_threads').isMainThread as boolean });

test('a fork in the master is a thread of this process with its own threadId and globals', async (t) => {
  const router = routerFor(t);
  t.true(isMainThread);
  const f = await router.fork();
  const w = await f.call(where);
  t.is(w.pid, process.pid);
  t.false(w.main);
  t.not(w.threadId, threadId);
  (globalThis as Record<string, unknown>).mark = 'master';
  await f.call(() => { (globalThis as Record<string, unknown>).mark = 'fork'; });
  t.is((globalThis as Record<string, unknown>).mark, 'master');
  t.is(await f.call(() => (globalThis as Record<string, unknown>).mark), 'fork');
  t.regex(f.name, /^fork\.\d+$/);
});

test('a fork via a child lives in that child; a fork\'s own forks route through it', async (t) => {
  const router = routerFor(t);
  const child = await router.local();
  const childPid = await child.call(() => process.pid);
  const f = await router.fork({ via: child });
  t.is((await f.call(where)).pid, childPid);
  const ff = await router.fork({ via: f });
  const inner = await ff.call(where);
  t.is(inner.pid, childPid);
  t.not(inner.threadId, (await f.call(where)).threadId);
  // The fork can start children of its own, too.
  const made = await f.call(async () => { const g = await currentRouter()!.local(); return g.call(() => process.ppid); });
  t.is(made, childPid);
});

test('onStart runs inside the fork, with its Context, before the first call', async (t) => {
  const router = routerFor(t);
  const f = await router.fork({
    onFork: () => { (globalThis as Record<string, unknown>).order = ['onFork']; },
    onStart: async (ctx: { contextId: number }) => {
      await new Promise((r) => setTimeout(r, 20)); // an async onStart still runs to its end first
      ((globalThis as Record<string, unknown>).order as string[]).push(`onStart:${ctx.contextId}`);
    },
  });
  t.deepEqual(await f.call(() => (globalThis as Record<string, unknown>).order), ['onFork', `onStart:${f.contextId}`]);
});

test('a heap limit ends only the fork: its calls reject with ChannelError and its host lives on', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  const f = await router.fork({ via: host, resourceLimits: { maxOldGenerationSizeMb: 24 } });
  const err = await t.throwsAsync(f.call(() => { const a: unknown[] = []; for (;;) a.push(new Array(1e5).fill(1)); }), { instanceOf: ChannelError });
  t.regex(err!.message, /disconnected/);
  t.true(f.isDisconnected);
  t.is(await host.call(() => 'host alive'), 'host alive');
  const g = await router.fork({ via: host });
  t.is(await g.call(() => 1 + 1), 2);
});

test('process-wide operations in a fork are scoped or refused: process.exit ends only the fork, process.chdir is refused', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  const hostCwd = await host.call(() => process.cwd());
  const f = await router.fork({ via: host });
  const chdir = await t.throwsAsync(f.call(() => process.chdir('/tmp')), { instanceOf: CallError });
  t.regex(chdir!.message, /process\.chdir\(\) is not supported in workers/);
  t.is(await host.call(() => process.cwd()), hostCwd);
  await t.throwsAsync(f.call(() => process.exit(3)), { instanceOf: ChannelError });
  t.is(await host.call(() => 'host alive'), 'host alive');
});

test('shutting a host down ends its forks; output in a fork is forwarded, not printed', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  const f = await router.fork({ via: host, name: 'forked' });
  const records = collectLogs(t);
  t.is(await f.call(() => { console.log('from the fork'); process.stdout.write('raw from the fork\n'); return 'ok'; }), 'ok');
  await waitUntil(() => ['from the fork', 'raw from the fork'].every((x) => records.some((r) => r.name === 'forked' && r.text === x)), 10, 'the fork\'s output is forwarded');
  // Not printed too: anything written to the host's own stdout or stderr would come back as the
  // host's records. The host's marker, written after the fork's lines, arrives after any of them.
  await host.call(() => { process.stderr.write('host marker\n'); });
  await waitUntil(() => records.some((r) => r.text === 'host marker'), 10, 'the host\'s marker arrives');
  const mentions = records.filter((r) => r.text.includes('from the fork')).map((r) => `${r.name}: ${r.text}`);
  t.deepEqual(mentions.sort(), ['forked: from the fork', 'forked: raw from the fork'], 'each line once, from the fork alone');
  await host.shutdown({ wait: true });
  t.true(f.isDisconnected);
});

test('modules a fork lacks are forwarded into it (ESM, CommonJS, TypeScript)', async (t) => {
  const router = routerFor(t);
  const dir = `${fixturesDir}forwarding`;
  const host = await router.local({ nodePath: hidingNodePath(dir) });
  const f = await router.fork({ via: host });
  t.deepEqual(await f.call((d: string) => require('node:fs').readdirSync(d), dir), []);
  t.is(await f.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), 42);
  t.is(await f.call(() => require('../fixtures/forwarding/cjs/main.cjs').total), 42);
  t.deepEqual(await f.call(fnRef(`file://${dir}/esm/greet.ts`, 'greet'), 'q'), { text: 'hello q', doubled: 2 });
});

test('a function that builds source for a Worker keeps its strings: only code imports are rewritten', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const got = await ctx.call(async () => {
    const { Worker } = await import('node:worker_threads');
    return new Promise<string>((resolve) => {
      const w = new Worker("import('node:os').then((os) => require('node:worker_threads').parentPort.postMessage(typeof os.hostname))", { eval: true });
      w.once('message', (m: string) => { resolve(m); void w.terminate(); });
    });
  });
  t.is(got, 'function');
});

test('100 fork start/call/shutdown cycles leave nothing behind in the host: no thread, no child, no route', async (t) => {
  const router = routerFor(t);
  const host = await router.local();
  // Threads are counted once every fork thread the host started has exited (Node joins it before 'exit'):
  // a fork's thread ends just after its context is reported gone.
  const state = () => host.call(async () => {
    const stats = () => currentRouter()!.broker.control((api) => api.stats());
    for (let i = 0; i < 200 && (await stats()).forkThreads > 0; i++) await new Promise((r) => setTimeout(r, 25));
    const threads = Number(/Threads:\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))![1]);
    const s = await stats();
    return { threads, forkThreads: s.forkThreads, children: s.children, routes: s.routes };
  });
  const cycle = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const f = await router.fork({ via: host });
      t.is(await f.call((x: number) => x + 1, i), i + 1);
      await f.shutdown({ wait: true });
    }
  };
  await cycle(5);
  const before = await state();
  await cycle(100);
  t.is(before.forkThreads, 0);
  t.deepEqual(await state(), before);
});
