/** The bench's delay proxy forwards bytes whole and in order, reaches a test host's sshd, and cut() ends live links while it keeps listening. */
import test from 'ava';
import net from 'node:net';
import { once } from 'node:events';
import { start } from '../../bench/lib/delay-proxy.js';
import { host } from '../testbed.js';

async function echoServer(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, server };
}

test('bytes cross whole and in order, each way', async (t) => {
  const echo = await echoServer();
  const proxy = await start({ target: { host: '127.0.0.1', port: echo.port }, delayMs: 5 });
  t.teardown(async () => { await proxy.close(); echo.server.close(); });
  const c = net.connect(proxy.port, '127.0.0.1');
  const sent: Buffer[] = [];
  // Each chunk is written once the previous one is flushed, so they travel as separate chunks a reordering proxy would swap.
  for (let i = 0; i < 100; i++) { const b = Buffer.from(`chunk-${i};`); sent.push(b); await new Promise<void>((r) => c.write(b, () => setImmediate(r))); }
  const want = Buffer.concat(sent);
  const got: Buffer[] = [];
  let n = 0;
  for await (const chunk of c) { got.push(chunk as Buffer); n += (chunk as Buffer).length; if (n >= want.length) break; }
  t.deepEqual(Buffer.concat(got), want);
});

test('reaches h1 sshd: the banner comes back through the proxy', async (t) => {
  const proxy = await start({ target: { host: host('h1').addr, port: 22 }, delayMs: 10 });
  t.teardown(() => proxy.close());
  const c = net.connect(proxy.port, '127.0.0.1');
  const [banner] = (await once(c, 'data')) as [Buffer];
  t.regex(banner.toString('latin1'), /^SSH-2\.0-/);
  c.destroy();
});

test('cut() ends live connections and the proxy still accepts new ones', async (t) => {
  const echo = await echoServer();
  const proxy = await start({ target: { host: '127.0.0.1', port: echo.port }, delayMs: 1 });
  t.teardown(async () => { await proxy.close(); echo.server.close(); });
  const c = net.connect(proxy.port, '127.0.0.1');
  c.write('x');
  await once(c, 'data');
  t.is(proxy.connections, 1);
  const closed = once(c, 'close');
  proxy.cut();
  await closed;
  const d = net.connect(proxy.port, '127.0.0.1');
  d.write('again');
  const [echoed] = (await once(d, 'data')) as [Buffer];
  t.is(echoed.toString(), 'again');
  d.destroy();
});

test('a bad delay is refused with a RangeError', async (t) => {
  await t.throwsAsync(start({ target: { host: '127.0.0.1', port: 1 }, delayMs: -1 }), { instanceOf: RangeError });
});
