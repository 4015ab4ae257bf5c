import test from 'ava';
import { DEFAULT_MAX_MESSAGE_SIZE, MitogenError } from '../../src/index.js';
import { collectLogs, routerFor, waitUntil } from '../helpers.js';

test('maxMessageSize defaults to 128 MiB', (t) => {
  t.is(DEFAULT_MAX_MESSAGE_SIZE, 128 * 1024 * 1024);
});

test('an oversized call is refused on send: the call rejects naming the size and the limit', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 1024 * 1024;
  const ctx = await router.local();
  const big = new Uint8Array(2 * 1024 * 1024);
  const err = await t.throwsAsync(ctx.call((b: Uint8Array) => b.length, big), { instanceOf: MitogenError });
  t.regex(err!.message, /message too large: \d+ bytes exceeds maxMessageSize 1048576 bytes/);
  t.is(await ctx.call((b: Uint8Array) => b.length, new Uint8Array(1000)), 1000);
});

test('an oversized result is refused in the child: the call rejects instead of hanging', async (t) => {
  const router = routerFor(t);
  router.maxMessageSize = 1024 * 1024;
  const ctx = await router.local();
  const err = await t.throwsAsync(ctx.call(() => new Uint8Array(3 * 1024 * 1024)), { instanceOf: MitogenError });
  t.regex(err!.message, /message too large: \d+ bytes exceeds maxMessageSize 1048576/);
  t.is(await ctx.call(() => 'alive'), 'alive');
});

test('a frame over the receiver\'s limit is refused by the router, and the sender is told', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  // The child may send 4 MiB, but its parent (the master's broker) accepts 1 MiB.
  await ctx.call(() => { currentRouter()!.maxMessageSize = 4 * 1024 * 1024; });
  router.maxMessageSize = 1024 * 1024;
  const records = collectLogs(t);
  const err = await t.throwsAsync(ctx.call(() => new Uint8Array(2 * 1024 * 1024)), { instanceOf: MitogenError });
  // The master's limit, not the child's (whose own refusal would name 4194304 and be logged as the child's).
  t.regex(err!.message, /message too large: \d+ bytes exceeds maxMessageSize 1048576 bytes/);
  await waitUntil(() => records.some((r) => r.name.startsWith('master:') && /^refusing message for 0 handle \d+: message too large: \d+ bytes exceeds maxMessageSize 1048576/.test(r.text)), 10, 'the master\'s broker logs the refusal');
  t.false(records.some((r) => r.name === ctx.name && /message too large/.test(r.text)), 'the child did not refuse it itself');
  t.is(await ctx.call(() => 'alive'), 'alive');
});

test('large byte results arrive intact', async (t) => {
  const router = routerFor(t);
  const ctx = await router.local();
  const back = await ctx.call((n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31) & 0xff;
    return b;
  }, 8 * 1024 * 1024 + 7);
  t.is(back.length, 8 * 1024 * 1024 + 7);
  let ok = true;
  for (let i = 0; i < back.length; i += 4097) if (back[i] !== ((i * 31) & 0xff)) ok = false;
  t.true(ok);
});

declare function currentRouter(): { maxMessageSize: number } | undefined;
