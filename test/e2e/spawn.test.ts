/**
 * ctx.spawn with real processes in real contexts: local, over ssh to a test
 * host, and through sudo. Memory bounds are asserted as counts on the
 * producer's side (bytes the context took from the pipe minus bytes the
 * consumer took), never as times.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ChannelError, MitogenError, SpawnError } from '../../src/index.js';
import type { Context, Router, SpawnedProcess } from '../../src/index.js';
import { bytesReadThere } from '../../src/features/spawn-there.js';
import { grandchildFor, pidAlive, routerFor, waitUntil } from '../helpers.js';
import { asUser1 } from '../testbed.js';

const MiB = 1024 * 1024;
/** Node reads a pipe 64 KiB at a time: one read may land on top of a full window. */
const READ_CHUNK = 64 * 1024;

/** Fails after `seconds` rather than hanging the suite (a bound, not a timing assertion). */
async function bounded<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${seconds} s`)), seconds * 1000); });
  try { return await Promise.race([p, limit]); } finally { clearTimeout(timer); }
}

const collect = async (stream: AsyncIterable<Uint8Array>): Promise<string> => {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
};

/** A router whose observe window is small and fixed (no growth), so a bound on the lead is tight. */
function smallWindowRouter(t: Parameters<typeof routerFor>[0]): Router {
  const router = routerFor(t);
  router.observeWindow = { messages: 8, bytes: 256 * 1024, maxBytes: 256 * 1024 };
  return router;
}

/**
 * Reads all of stdout slowly: every 16 chunks it asks the context how much it
 * has taken from the pipe, and records the largest lead over what was read here.
 */
async function drainSlowly(ctx: Context, p: SpawnedProcess): Promise<{ consumed: number; maxLead: number; checks: number }> {
  let consumed = 0;
  let maxLead = 0;
  let checks = 0;
  let n = 0;
  for await (const chunk of p.stdout) {
    consumed += chunk.byteLength;
    if (++n % 16 === 0) {
      const read = await ctx.call(bytesReadThere, p.id);
      if (read) maxLead = Math.max(maxLead, read.stdout - consumed);
      checks++;
    }
  }
  return { consumed, maxLead, checks };
}

async function boundedFlow(t: Parameters<typeof routerFor>[0], router: Router, ctx: Context, size: number, start = (): SpawnedProcess => ctx.spawn(`yes | head -c ${size}`)): Promise<void> {
  const p = start();
  p.stderr.subscribe();
  const r = await drainSlowly(ctx, p);
  t.is(r.consumed, size);
  t.true(r.checks > 10);
  const bound = router.observeWindow.bytes + 2 * READ_CHUNK;
  t.true(r.maxLead <= bound, `the context read ${r.maxLead} bytes ahead of the consumer; the window allows ${bound}`);
  t.deepEqual(await p.exit, { code: 0, signal: null });
}

test('stdout, stderr and lines() of a shell command; exit code, cwd and env', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const p = ctx.spawn('pwd; echo "$GREETING"; printf "no newline"; echo oops >&2; exit 3', { cwd: '/tmp', env: { GREETING: 'hi there' } });
  const errs: string[] = [];
  const errDone = new Promise<void>((resolve, reject) => p.lines('stderr').subscribe({ next: (l) => errs.push(l), error: reject, complete: resolve }));
  const out: string[] = [];
  for await (const line of p.lines('stdout')) out.push(line);
  await errDone;
  t.deepEqual(out, ['/tmp', 'hi there', 'no newline']);
  t.deepEqual(errs, ['oops']);
  t.deepEqual(await p.exit, { code: 3, signal: null });
  t.true(Number.isInteger(await p.pid));
  // A file with args runs without a shell: the argument arrives verbatim.
  const q = ctx.spawn('printf', ['%s|', '$HOME', 'a b']);
  t.is(await collect(q.stdout), '$HOME|a b|');
  await t.throwsAsync(collect(q.stdout), { instanceOf: MitogenError, message: /can be read once/ });
});

test('stdin round trip through cat: writes arrive in order, binary intact; input closes stdin', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const p = ctx.spawn('cat', []);
  const out = collect(p.stdout);
  const bytes = new Uint8Array(256).map((_, i) => i);
  const writes = [p.write('first '), p.write(bytes), p.write(' last')];
  for (let i = 0; i < 50; i++) writes.push(p.write(`${i},`));
  writes.push(p.end());
  await Promise.all(writes);
  const expected = Buffer.concat([Buffer.from('first '), Buffer.from(bytes), Buffer.from(' last'), Buffer.from(Array.from({ length: 50 }, (_, i) => `${i},`).join(''))]);
  t.is(await out, expected.toString('utf8'));
  t.deepEqual(await p.exit, { code: 0, signal: null });
  await t.throwsAsync(p.write('late'), { instanceOf: MitogenError, message: /stdin is closed/ });
  const q = ctx.spawn('wc -c', { input: 'twelve bytes' });
  t.is((await collect(q.stdout)).trim(), '12');
  // 8 MiB through cat, awaited write by write while its output is read: both directions flow.
  const big = ctx.spawn('cat', []);
  let echoed = 0;
  const reading = (async () => { for await (const c of big.stdout) echoed += c.byteLength; })();
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  for (let i = 0; i < 128; i++) await big.write(chunk);
  await big.end();
  await reading;
  t.is(echoed, 8 * MiB);
});

test('kill() signals the whole process group: a shell pipeline ends, and exit names the signal', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const p = ctx.spawn('sleep 1000 | cat; echo unreachable');
  const out = collect(p.stdout);
  t.true(await p.kill('SIGTERM'));
  t.deepEqual(await p.exit, { code: null, signal: 'SIGTERM' });
  // stdout ends only once every holder of the pipe (sleep and cat) is gone.
  t.is(await bounded(out, 30, 'stdout of the killed pipeline ends'), '');
  t.false(await p.kill(), 'a process that has exited is not signalled');
  const q = ctx.spawn('sleep', ['1000']);
  q.stdout.subscribe();
  q.stderr.subscribe();
  await q.kill('SIGKILL');
  t.deepEqual(await q.exit, { code: null, signal: 'SIGKILL' });
});

test('a command that does not exist: SpawnError (ENOENT) without a shell, status 127 with one', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const p = ctx.spawn('/no/such/program', ['x']);
  const e = await t.throwsAsync(p.exit, { instanceOf: SpawnError });
  t.is(e!.code, 'ENOENT');
  t.regex(e!.message, new RegExp(`/no/such/program x in ${ctx.name}`));
  await t.throwsAsync(collect(p.stdout), { instanceOf: SpawnError });
  await t.throwsAsync(p.write('x'), { instanceOf: SpawnError });
  const bad = ctx.spawn('true', [], { cwd: '/no/such/dir' });
  t.is((await t.throwsAsync(bad.exit, { instanceOf: SpawnError }))!.code, 'ENOENT');
  const sh = ctx.spawn('no-such-program-here');
  const err = collect(sh.stderr);
  sh.stdout.subscribe();
  t.deepEqual(await sh.exit, { code: 127, signal: null });
  t.regex(await err, /not found/);
});

test('1 GiB of output under a slow consumer: the context reads at most a window ahead', async (t) => {
  const router = smallWindowRouter(t);
  const ctx = await router.local();
  await boundedFlow(t, router, ctx, 1024 * MiB);
});

test('unsubscribing drops the rest of the output there; with killOnUnsubscribe it kills the process', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  // Without killOnUnsubscribe the process runs on: its 64 MiB go nowhere, and it reaches its end.
  const p = ctx.spawn('head -c 67108864 /dev/zero; echo finished >&2');
  const err = collect(p.stderr);
  for await (const chunk of p.stdout) { t.true(chunk.byteLength > 0); break; }
  t.deepEqual(await bounded(p.exit, 30, 'the unread process exits'), { code: 0, signal: null });
  t.is(await err, 'finished\n');
  const q = ctx.spawn('yes', [], { killOnUnsubscribe: true });
  q.stderr.subscribe();
  let n = 0;
  for await (const _ of q.stdout) if (++n === 3) break;
  t.deepEqual(await bounded(q.exit, 30, 'yes is killed'), { code: null, signal: 'SIGTERM' });
  const r = ctx.spawn('yes', [], { killOnUnsubscribe: true });
  r.stderr.subscribe();
  const sub = r.lines('stdout').subscribe((line) => { if (line === 'y') sub?.unsubscribe(); });
  t.deepEqual(await bounded(r.exit, 30, 'yes is killed'), { code: null, signal: 'SIGTERM' });
});

test('the context killed mid-run: output and exit end with ChannelError', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const pid = await ctx.call(() => process.pid);
  const p = ctx.spawn('yes');
  p.stderr.subscribe({ error: () => {} });
  let n = 0;
  const reading = (async () => { for await (const _ of p.stdout) if (++n === 5) process.kill(pid, 'SIGKILL'); })();
  await t.throwsAsync(reading, { instanceOf: ChannelError });
  await t.throwsAsync(p.exit, { instanceOf: ChannelError });
  t.true(n >= 5);
});

/** `p` (`name`) is running; once `end()` has run, its exit fails with ChannelError and it is gone within `seconds`. */
async function goesWithItsContext(t: ExecutionContext, p: SpawnedProcess, end: () => unknown, name = 'sleep', seconds = 10): Promise<void> {
  const pid = await p.pid;
  t.true(pidAlive(pid));
  await end();
  await t.throwsAsync(p.exit, { instanceOf: ChannelError });
  await waitUntil(() => !pidAlive(pid), seconds, `${name} (pid ${pid}) is gone`);
  t.false(pidAlive(pid));
}

test('a context killed outright (SIGKILL) takes even a quiet process with it', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const ctxPid = await ctx.call(() => process.pid);
  const p = ctx.spawn('sleep', ['1000']);
  p.stdout.subscribe({ error: () => {} });
  p.stderr.subscribe({ error: () => {} });
  // No exit hook runs, and sleep writes nothing that a closed pipe could stop.
  await goesWithItsContext(t, p, () => process.kill(ctxPid, 'SIGKILL'));
});

test('a context that shuts down kills what it started', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const p = ctx.spawn('sleep', ['1000']);
  await goesWithItsContext(t, p, () => ctx.shutdown({ wait: true }));
});

test('a context whose parent is killed goes, and kills what it started', async (t) => {
  const { child: mid, grandchild: leaf } = await grandchildFor(t);
  const p = leaf.spawn('sleep 1000; sleep 1000');
  await goesWithItsContext(t, p, async () => process.kill(await mid.call(() => process.pid), 'SIGKILL'), 'the shell', 20);
});

test('over ssh: the process runs on the host, stdin round trip, and 64 MiB stay within the window', async (t) => {
  const router = smallWindowRouter(t);
  const ctx = await router.ssh(asUser1('h1'));
  t.is((await ctx.exec('hostname')).stdout, 'h1\n');
  const cat = ctx.spawn('cat', []);
  const out = collect(cat.stdout);
  await cat.write('over ');
  await cat.write('ssh');
  await cat.end();
  t.is(await out, 'over ssh');
  await boundedFlow(t, router, ctx, 64 * MiB);
});

test('through sudo: the process runs as the target user, and 64 MiB stay within the window', async (t) => {
  const router = smallWindowRouter(t);
  const ctx = await router.sudo({ sudoPath: ['runuser', '-u', 'mitouser3', '--', 'sudo'], username: 'mitouser2' });
  t.is((await ctx.exec('id -un')).stdout, 'mitouser2\n');
  const p = ctx.spawn('cat', [], { input: 'as mitouser2' });
  t.is(await collect(p.stdout), 'as mitouser2');
  await boundedFlow(t, router, ctx, 64 * MiB);
});

test('in a docker container: the process runs there, stdin round trip, and 32 MiB stay within the window', async (t) => {
  const router = smallWindowRouter(t);
  const ctx = await router.docker({ container: 'mito-docker1', username: 'mitouser1' });
  // The container holds node and little else: node is the command.
  const node = await ctx.call(() => process.execPath);
  const echo = ctx.spawn(node, ['-e', 'process.stdout.write(require("os").hostname() + ":"); process.stdin.pipe(process.stdout)'], { input: 'in' });
  t.is(await collect(echo.stdout), 'mito-docker1:in');
  const size = 32 * MiB;
  await boundedFlow(t, router, ctx, size, () => ctx.spawn(node, ['-e', `process.stdout.write(Buffer.alloc(${size}, 121))`]));
});
