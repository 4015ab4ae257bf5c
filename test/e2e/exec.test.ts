import test from 'ava';
import { ExecError, SpawnError } from '../../src/index.js';
import { routerFor } from '../helpers.js';

test('exec runs a shell string or a file with args in the context and returns its output', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const pid = await ctx.call(() => process.pid);
  const r = await ctx.exec('echo $PPID; echo oops >&2; exit 3');
  t.deepEqual(r, { code: 3, signal: null, stdout: `${pid}\n`, stderr: 'oops\n' });
  t.is((await ctx.exec('cat', [], { input: 'round trip' })).stdout, 'round trip');
  t.is((await ctx.exec('kill -TERM $$')).signal, 'SIGTERM');
  const e = await t.throwsAsync(ctx.exec('echo bad >&2; exit 2', { check: true }), { instanceOf: ExecError });
  t.regex(e!.message, /exit 2 exited with status 2 in local\.\d+: bad/);
  const missing = await t.throwsAsync(ctx.exec('/no/such/command', []), { instanceOf: SpawnError, message: /\/no\/such\/command.*ENOENT/ });
  t.is(missing!.code, 'ENOENT');
});
