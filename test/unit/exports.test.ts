/** The package's exports map: every subpath of the API contract, by package name (built dist/). */
import test from 'ava';

const rootNames = [
  'Router', 'Broker', 'Context', 'Message', 'Receiver', 'Sender', 'fnRef', 'now', 'withRouter', 'runWithRouter',
  'enableDebug', 'logToFile', 'MitogenError', 'CallError', 'ChannelError', 'StreamError', 'TimeoutError', 'LatchError',
  'PasswordError', 'HostKeyError', 'EofError', 'CancelledError', 'fakessh',
  'Pool', 'PoolQueueFullError', 'FileTransferError',
];

test('the root export carries every public name of the API contract', async (t) => {
  const m = await import('mitogen-ts') as Record<string, unknown>;
  for (const name of rootNames) t.truthy(m[name], `mitogen-ts exports ${name}`);
  t.is(typeof (m.fakessh as Record<string, unknown>).run, 'function');
});

test('the subpaths mirror Mitogen\'s modules', async (t) => {
  const core = await import('mitogen-ts/core') as Record<string, unknown>;
  for (const n of ['Router', 'Context', 'Message', 'Receiver', 'Sender', 'CallError', 'ChannelError', 'now']) t.truthy(core[n], `core.${n}`);
  const master = await import('mitogen-ts/master') as Record<string, unknown>;
  for (const n of ['Router', 'Broker']) t.truthy(master[n], `master.${n}`);
  const parent = await import('mitogen-ts/parent') as Record<string, unknown>;
  t.truthy(parent.Router);
  const utils = await import('mitogen-ts/utils') as Record<string, unknown>;
  for (const n of ['now', 'withRouter', 'runWithRouter', 'enableDebug', 'logToFile']) t.truthy(utils[n], `utils.${n}`);
  const fakessh = await import('mitogen-ts/fakessh') as Record<string, unknown>;
  t.is(typeof fakessh.run, 'function');
});

test('the built package starts a context from its prebuilt runtime payload', async (t) => {
  const { runWithRouter, withRouter } = await import('mitogen-ts') as typeof import('../../src/index.js');
  const pid = await runWithRouter(async (router) => {
    const ctx = await router.local();
    return ctx.call(() => process.pid);
  });
  t.true(Number.isInteger(pid) && pid !== process.pid);
  const f = withRouter(async (router, x: number) => (await router.local()).call((y: number) => y + 1, x));
  t.is(await f(41), 42);
});

test('every connection method of the contract exists', async (t) => {
  const { Router } = await import('mitogen-ts') as typeof import('../../src/index.js');
  const router = new Router();
  t.teardown(() => router.shutdown());
  for (const m of ['local', 'fork', 'ssh', 'sudo', 'su', 'doas', 'docker', 'podman', 'buildah', 'lxc', 'lxd', 'jail', 'kubectl', 'setns'] as const) {
    t.is(typeof router[m], 'function', m);
  }
});
