// Ported from Mitogen's tests/stdio_test.py: a context's stdout takes large writes without breaking the stream.
import test from 'ava';
import { collectLogs, routerFor, waitUntil } from '../../helpers.js';
import { stub } from './stubs.js';

const writeMib = (): number => {
  const line = `${'x'.repeat(1023)}\n`;
  let n = 0;
  for (let i = 0; i < 1024; i++) { process.stdout.write(line); n += line.length; }
  return n;
};

for (const [name, connect] of [
  ['LocalTest', (r: import('../../../src/index.js').Router) => r.local()],
  ['SudoTest', (r: import('../../../src/index.js').Router) => r.sudo({ sudoPath: stub('sudo') })],
] as const) {
  test(`stdio_test ${name}.test_can_write_stdout_1_mib: 1 MiB written to stdout arrives, and the context goes on`, async (t) => {
    const router = routerFor(t);
    const logs = collectLogs(t);
    const ctx = await connect(router);
    t.is(await ctx.call(writeMib), 1024 * 1024);
    // Records from this context only: other tests in this process log too.
    const lines = (): number => logs.filter((r) => r.name === ctx.name && r.text === 'x'.repeat(1023)).length;
    await waitUntil(() => lines() >= 1024, 30, 'every line is forwarded');
    t.is(lines(), 1024);
    t.is(await ctx.call(() => 'still there'), 'still there');
  });
}
