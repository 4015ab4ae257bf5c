import test from 'ava';
import { collectLogs, routerFor, waitUntil } from '../helpers.js';

test('user output in a child and its workers never touches the stream and reaches the master as log records', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local({ name: 'noisy' });
  const records = collectLogs(t);
  const result = await ctx.call(async () => {
    console.log('console.log line', 42);
    console.error('console.error line');
    console.info({ an: 'object' });
    process.stdout.write('raw stdout\nsecond raw line\n');
    process.stderr.write('raw stderr\n');
    process.stdout.write('\x00\x01 binary-looking bytes that would corrupt frames\n');
    const { Worker } = await import('node:worker_threads');
    await new Promise<void>((resolve, reject) => {
      const w = new Worker("console.log('from a worker thread'); process.stdout.write('worker raw\\n');", { eval: true });
      w.on('exit', () => resolve());
      w.on('error', reject);
    });
    return 'stream intact';
  });
  t.is(result, 'stream intact');
  t.is(await ctx.call(() => 'still intact'), 'still intact');
  const want = ['console.log line 42', 'console.error line', "{ an: 'object' }", 'raw stdout', 'second raw line',
    'raw stderr', 'from a worker thread', 'worker raw'];
  await waitUntil(() => want.every((w) => records.some((r) => r.text === w)), 10, 'every line is forwarded');
  for (const r of records.filter((x) => want.includes(x.text))) t.is(r.name, 'noisy');
  t.is(records.find((r) => r.text === 'console.error line')!.level, 'warn');
  t.is(records.find((r) => r.text === 'raw stdout')!.level, 'info');
});
