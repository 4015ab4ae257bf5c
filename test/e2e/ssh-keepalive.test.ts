/**
 * ServerAliveInterval/CountMax from the ssh config take effect on the wire:
 * a host that stops answering (the delay proxy in front of h1's sshd stops
 * carrying bytes but keeps the TCP connection open) is given up on by the
 * keepalives, and the context disconnects. Without keepalives nothing would
 * ever notice: the test's bound is what would fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { start as startProxy } from '../../bench/lib/delay-proxy.js';
import { routerFor } from '../helpers.js';
import { asUser1, host } from '../testbed.js';

for (const client of ['ssh2', 'openssh'] as const) {
  test(`${client}: ServerAliveInterval 1 / CountMax 2 from the config: a host that stops answering is disconnected`, async (t) => {
    const proxy = await startProxy({ target: { host: host('h1').addr, port: 22 }, delayMs: 0 });
    t.teardown(() => proxy.close());
    const dir = mkdtempSync(join(os.tmpdir(), 'mt-keepalive-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'config');
    writeFileSync(config, [
      'Host quiet-host', '  HostName 127.0.0.1', `  Port ${proxy.port}`, '  User mitouser1',
      `  IdentityFile ${asUser1('h1').identityFile}`, '  ServerAliveInterval 1', '  ServerAliveCountMax 2',
      '  StrictHostKeyChecking no', '  UserKnownHostsFile /dev/null', '  GlobalKnownHostsFile /dev/null', '',
    ].join('\n'));
    const router = routerFor(t);
    // keepalive* null: the file's values, not mitogen-ts's defaults (30 s, 10).
    const ctx = await router.ssh({ hostname: 'quiet-host', client, sshConfigFile: config, keepaliveInterval: null, keepaliveCount: null });
    t.is(await ctx.call(() => 1 + 1), 2);
    proxy.freeze();
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      ctx.disconnected().then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), 30_000); }),
    ]).finally(() => clearTimeout(timer));
    t.true(gone, 'the keepalives went unanswered and the context was disconnected (bounded at 30 s: keepalives every 1 s, 2 missed)');
  });
}
