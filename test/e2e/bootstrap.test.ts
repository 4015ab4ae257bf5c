import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ChannelError, EofError, StreamError, TimeoutError } from '../../src/index.js';
import { bootstrapPid, pidAlive, routerFor, waitUntil } from '../helpers.js';

test('a missing node binary fails fast with StreamError naming the path', async (t) => {
  const router = routerFor(t);
  const err = await t.throwsAsync(router.local({ nodePath: '/nonexistent/bin/node' }), { instanceOf: StreamError });
  t.regex(err!.message, /\/nonexistent\/bin\/node/);
  t.regex(err!.message, /no such file/i);
});

test('a target that prints something else and exits fails with EofError quoting its last lines and the stage', async (t) => {
  const router = routerFor(t);
  const nodePath = ['sh', '-c', 'echo "line one"; echo "bash: node: command not found" >&2; exit 127', 'sh'];
  const err = await t.throwsAsync(router.local({ nodePath }), { instanceOf: EofError });
  t.regex(err!.message, /^EOF on stream; last 100 lines received:/);
  t.regex(err!.message, /line one/);
  t.regex(err!.message, /bash: node: command not found/);
  t.regex(err!.message, /exited with status 127/);
  t.regex(err!.message, /stage 0: the command started but the first stage never ran/);
});

test('a first stage that runs but dies reading the runtime names that stage', async (t) => {
  const router = routerFor(t);
  // node runs the first stage, but its stdin is closed before the runtime arrives.
  const nodePath = ['sh', '-c', 'exec node "$@" </dev/null', 'sh'];
  const err = await t.throwsAsync(router.local({ nodePath }), { instanceOf: EofError });
  t.regex(err!.message, /EOF while reading the runtime/);
  t.regex(err!.message, /stage 1: the first stage ran but the runtime was not read/);
});

const holdAfterRuntime = fileURLToPath(new URL('../fixtures/bootstrap/hold-after-runtime.cjs', import.meta.url));

test('the connect resolves once the runtime is read: the first call is on its way before the child says MITO002', async (t) => {
  t.timeout(60_000);
  const router = routerFor(t);
  // The relay passes on MITO002 only after our first frame reached the child's stdin: waiting for it would time out.
  const ctx = await router.local({ nodePath: [process.execPath, holdAfterRuntime], connectTimeout: 30 });
  t.is(await ctx.call((a: number, b: number) => a * b, 6, 7), 42);
  t.is(await ctx.call(() => process.argv.length > 0), true, 'later calls are read as usual');
});

test('a call deadline starts once the child has started: the end of a slow start is the connect\'s time, not the call\'s', async (t) => {
  t.timeout(60_000);
  const router = routerFor(t);
  // MITO002 comes 1.5 s after our first frame: a deadline counted from the send would end first.
  const ctx = await router.local({ nodePath: ['env', 'HOLD_EXTRA_MS=1500', process.execPath, holdAfterRuntime], connectTimeout: 30 });
  t.is(await ctx.callWith({ timeout: 0.5 }, () => 42), 42);
  router.callTimeout = 0.5;
  t.is(await ctx.call(() => 43), 43);
});

test('a child that dies after its runtime was read, before MITO002, fails the call with ChannelError naming the stage', async (t) => {
  t.timeout(60_000);
  const router = routerFor(t);
  const ctx = await router.local({ nodePath: ['env', 'HOLD_THEN_EXIT=3', process.execPath, holdAfterRuntime], connectTimeout: 30 });
  const err = await t.throwsAsync(ctx.call(() => 1), { instanceOf: ChannelError });
  t.regex(err!.message, /has disconnected before its runtime started/);
  t.regex(err!.message, /exited with status 3; bootstrap stopped at stage 2: the runtime was read but did not start/);
  // The router carries on.
  t.is(await (await router.local()).call(() => 5), 5);
});

/** local() through `nodePath` fails at `connectTimeout` with a TimeoutError whose message matches each of `says`; the stuck child is then killed. */
async function stuckBootstrapTimesOut(t: ExecutionContext, nodePath: string[], connectTimeout: number, says: RegExp[]): Promise<void> {
  const err = await t.throwsAsync(routerFor(t).local({ nodePath, connectTimeout }), { instanceOf: TimeoutError });
  for (const re of says) t.regex(err!.message, re);
  const pid = bootstrapPid(err!.message);
  await waitUntil(() => !pidAlive(pid), 10, `the stuck child ${pid} is killed`);
}

// Without connectTimeout these bootstraps never end: the test's own timeout is the bound.
test('connectTimeout ends a bootstrap stuck before the first stage, and kills the child', async (t) => {
  t.timeout(30_000);
  // Reads its stdin forever and never answers.
  const nodePath = ['sh', '-c', 'echo waiting; exec cat >/dev/null', 'sh'];
  await stuckBootstrapTimesOut(t, nodePath, 1, [
    /^Failed to setup connection after 1 seconds/,
    /bootstrap stopped at stage 0 \(the command started but the first stage never ran\)/,
    /waiting/,
  ]);
});

test('connectTimeout also bounds the later stages: a first stage that never receives the runtime', async (t) => {
  t.timeout(30_000);
  // node's stdin is a FIFO held open for writing by node itself: no data and no EOF, ever.
  // The timeout leaves node time to start on a loaded machine, so the first stage does run.
  const nodePath = ['sh', '-c', 'f=$(mktemp -u) && mkfifo "$f" && exec 3<>"$f" && rm "$f" && exec node "$@" <&3 3<&-', 'sh'];
  await stuckBootstrapTimesOut(t, nodePath, 6, [
    /^Failed to setup connection after 6 seconds/,
    /bootstrap stopped at stage 1 \(the first stage ran but the runtime was not read\)/,
  ]);
});

test('a child whose working directory no longer exists starts from / instead of dying silently', async (t) => {
  const router = routerFor(t);
  // The shell enters a directory and removes it before node starts: node's cwd is gone.
  const ctx = await router.local({ nodePath: ['sh', '-c', 'd=$(mktemp -d) && cd "$d" && rmdir "$d" && exec node "$@"', 'sh'] });
  t.is(await ctx.call(() => process.cwd()), '/');
});
