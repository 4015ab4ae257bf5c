/**
 * Preloading over a slow link that breaks: a real sshd (test host h1) behind
 * the userspace delay proxy (10 ms each way), cut while a burst is on the
 * wire. The call fails with a typed error naming the context and the module, the master
 * carries on, and a new connection is sent the package again, in full.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { start as startProxy } from '../../bench/lib/delay-proxy.js';
import type { Router } from '../../src/index.js';
import { ChannelError } from '../../src/index.js';
import { hidingNodePath, routerFor } from '../helpers.js';
import { host, sshTestbed } from '../testbed.js';

const nodeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));
const useRxjs = async (): Promise<number[]> => {
  const rx = await import('rxjs');
  return rx.firstValueFrom(rx.of(1, 2, 3).pipe(rx.toArray()));
};
/** h1's sshd behind the delay proxy (10 ms each way), cut once 16 KiB have gone up after `arm()`. */
async function cuttingLink(t: { teardown(fn: () => void): void }) {
  let armed = false;
  let sent = 0;
  let cuts = 0;
  const proxy = await startProxy({
    target: { host: host('h1').addr, port: 22 }, delayMs: 10,
    tap: (dir, n) => {
      // The burst travels from the master (the ssh client) to the target: upstream.
      if (!armed || dir !== 'up') return;
      sent += n;
      // 16 KiB of the reply reached the proxy: the rest of the burst (64 KiB deflated for rxjs) never will.
      if (sent > 16 * 1024 && cuts === 0) { cuts++; proxy.cut(); }
    },
  });
  t.teardown(() => proxy.close());
  return { port: proxy.port, arm: (on = true) => { armed = on; }, cuts: () => cuts };
}

const requests = async (router: Router): Promise<number> => (await router.broker.control((api) => api.stats())).moduleRequests;

for (const client of ['ssh2', 'openssh'] as const) {
  test(`${client}: a link cut in the middle of a preload burst fails the call with ChannelError; a reconnect is sent the package in full`, async (t) => {
    const proxy = await cuttingLink(t);
    const router = routerFor(t);
    const connect = () => router.ssh({
      hostname: '127.0.0.1', port: proxy.port, username: 'root', identityFile: sshTestbed().key, client,
      checkHostKeys: 'ignore', sshArgs: ['-o', 'UserKnownHostsFile /dev/null', '-o', 'GlobalKnownHostsFile /dev/null'],
      nodePath: hidingNodePath(nodeModules),
    });
    const ctx = await connect();
    const before = await requests(router);
    proxy.arm();
    const err = await t.throwsAsync(ctx.call(useRxjs), { instanceOf: ChannelError });
    proxy.arm(false);
    t.is(proxy.cuts(), 1, 'the link was cut once, mid-burst');
    t.is(await requests(router) - before, 1, 'the burst was being sent for the one request');
    t.true(err!.message.includes(ctx.name), err!.message);
    // What broke is named: the import under way when the link went (the first module the call asked for).
    t.regex(err!.message, /while importing "rxjs"/);

    // The master is fine, and the new stream starts with nothing sent: the whole package comes again.
    const again = await connect();
    const b2 = await requests(router);
    t.deepEqual(await again.call(useRxjs), [1, 2, 3]);
    t.is(await requests(router) - b2, 1);
    const preloaded = await again.call(async () => (await (await import('../../src/index.js')).currentRouter()!.broker.control((api) => api.stats())).modulesPreloaded);
    t.true(preloaded >= 100, `${preloaded} modules came preloaded on the new connection`);
  });
}

test('a link cut mid-burst two hops down: the master\'s caller hears which module, carried up by DEL_ROUTE', async (t) => {
  const proxy = await cuttingLink(t);
  const router = routerFor(t);
  // The intermediate reads the master's files; the grandchild, behind the slow link, does not.
  const middle = await router.local();
  const far = await router.ssh({
    via: middle, hostname: '127.0.0.1', port: proxy.port, username: 'root', identityFile: sshTestbed().key,
    checkHostKeys: 'ignore', sshArgs: ['-o', 'UserKnownHostsFile /dev/null', '-o', 'GlobalKnownHostsFile /dev/null'],
    nodePath: hidingNodePath(nodeModules),
  });
  proxy.arm();
  const err = await t.throwsAsync(far.call(useRxjs), { instanceOf: ChannelError });
  t.is(proxy.cuts(), 1);
  t.true(err!.message.includes(far.name), err!.message);
  t.regex(err!.message, /while importing "rxjs"/);
  // The intermediate is untouched.
  t.is(await middle.call(() => 7), 7);
});
