/**
 * A fork's broker is a BrokerCore in its host's broker thread, beside the
 * host's own: the two share no state. A limit set on one (maxUnsentBytes,
 * which every stream of a broker follows) leaves the other's as it was.
 * The streams cork their writes per tick, so a frame over the bound closes
 * its stream (once written) even though the peer reads at once: the bound
 * shows in behaviour, the next call on that stream failing.
 */
import test from 'ava';
import { ChannelError, currentRouter } from '../../src/index.js';
import { routerFor } from '../helpers.js';

const MIB = 2 ** 20;

test('a limit set on the host\'s broker does not bind its fork\'s broker in the same thread', async (t) => {
  const router = routerFor(t);
  router.maxUnsentBytes = 64 * 1024;
  // Started after the limit (control calls are answered in order); its broker runs in the master's broker thread.
  const f = await router.fork();
  // The reply leaves on the fork's stream to the master, under the fork's broker's bound: the default 1 GiB.
  t.is((await f.call(() => new Uint8Array(2 ** 20))).length, MIB);
  t.is(await f.call(() => 'still connected'), 'still connected');
  // The master's own streams do hold the bound.
  const child = await router.local();
  await t.throwsAsync(child.call((b: Uint8Array) => b.length, new Uint8Array(MIB)), { instanceOf: ChannelError, message: /over maxUnsentBytes/ });
});

test('a limit set on a fork\'s broker does not bind its host\'s broker in the same thread', async (t) => {
  const router = routerFor(t);
  const f = await router.fork();
  await f.call(async () => {
    currentRouter()!.maxUnsentBytes = 64 * 1024;
    // Answered after the setLimits before it on the same port: the bound is in place when this returns.
    await currentRouter()!.broker.control((api) => api.stats());
  });
  // The master's broker writes 1 MiB to a child's stream under its own bound, and goes on.
  const child = await router.local();
  t.is(await child.call((b: Uint8Array) => b.length, new Uint8Array(MIB)), MIB);
  t.is(await child.call(() => 'still connected'), 'still connected');
  // The fork's broker does hold the bound: a 1 MiB reply is its stream's last.
  await f.call(() => new Uint8Array(2 ** 20)).catch(() => { /* written or not, the stream closes after it */ });
  await t.throwsAsync(f.call(() => 'never answered'), { instanceOf: ChannelError });
});
