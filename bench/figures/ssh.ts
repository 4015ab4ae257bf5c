/** ssh: bootstrap + first call to one of the project's test hosts (sshd in a network namespace on this machine). */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { FigureDef } from '../lib/figure.js';
import { isStat, marker, repeat, stat, within } from '../lib/measure.js';

const HOSTS = '/var/tmp/mitogen-testbed/ssh/hosts.json';
const KEY = '/home/mitouser1/.ssh/id_mitotest';
const USER = 'mitouser1';

/** The OpenSSH client's median in this run, which the ssh2 client's goal is measured against. */
let opensshMedian: number | undefined;

function sshFigure(client: 'openssh' | 'ssh2'): FigureDef {
  return {
  id: client === 'openssh' ? 'ssh' : 'ssh2',
  title: `ssh (${client === 'openssh' ? 'OpenSSH' : 'in-process ssh2'} client): bootstrap + first call to a local test host`,
  goal: client === 'openssh' ? 'faster than Mitogen' : 'faster than Mitogen and than the OpenSSH client',
  seconds: 30,
  needs: ['mitogen'],
  met: (x) => x.vsMitogen < 1 && (client === 'openssh' || (opensshMedian !== undefined && x.value < opensshMedian)),
  async measure(env) {
    const router = env.router();
    if (typeof router.ssh !== 'function') {
      const none = marker('not built', 'router.ssh is not a function');
      return { mitogenTs: none, floor: none, mitogen: none };
    }
    // Only hosts on this machine: the testbed `npm test` brings up as root (h1 is a private bridge address).
    if (!existsSync(HOSTS) || !existsSync(KEY)) {
      const none = marker('skipped', `the ssh test hosts are not up (${HOSTS}); npm test as root brings them up`);
      return { mitogenTs: none, floor: none, mitogen: none };
    }
    const tb = JSON.parse(readFileSync(HOSTS, 'utf8')) as { knownHosts: string; hosts: { name: string; addr: string }[] };
    const addr = tb.hosts.find((h) => h.name === 'h1')?.addr;
    if (!addr) {
      const none = marker('skipped', `no host h1 in ${HOSTS}`);
      return { mitogenTs: none, floor: none, mitogen: none };
    }
    const sshArgs = ['-o', `UserKnownHostsFile ${tb.knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'];
    const reps = env.reps(7, 3);
    const ts: number[] = [];
    await repeat(reps, env.deadline(), async () => {
      const t = performance.now();
      const ctx = await within(router.ssh({ hostname: addr, username: USER, identityFile: KEY, sshArgs, client }), 60_000, 'ssh()');
      await within(ctx.call(() => null), 30_000, 'first call');
      ts.push(performance.now() - t);
      await within(ctx.shutdown({ wait: true }), 30_000, 'shutdown');
    });
    await router.shutdown();
    // The floor: the same ssh login running `true`, nothing bootstrapped.
    const floor: number[] = [];
    const run = promisify(execFile);
    await repeat(reps, env.deadline(), async () => {
      const t = performance.now();
      await run('ssh', ['-o', 'BatchMode yes', '-o', 'LogLevel ERROR', '-i', KEY, ...sshArgs, '-l', USER, addr, 'true'], { timeout: 60_000 });
      floor.push(performance.now() - t);
    });
    const mine = stat(ts, 'ms');
    if (client === 'openssh' && isStat(mine)) opensshMedian = mine.median;
    return {
      mitogenTs: mine, floor: stat(floor, 'ms'),
      mitogen: await env.mitogen({ reps, ssh: { hostname: addr, username: USER, identity_file: KEY, ssh_args: sshArgs } }),
      notes: [client === 'openssh'
        ? 'ssh: the floor is `ssh host true` with the same key and options; Mitogen runs the same OpenSSH client.'
        : `ssh2: the same host, key and known_hosts through the in-process client (no ssh process); its goal compares it with the OpenSSH row of this run${opensshMedian === undefined ? ' (not measured in this run)' : ` (${opensshMedian.toFixed(0)} ms)`}.`],
    };
  },
  };
}

export const ssh = sshFigure('openssh');
export const ssh2 = sshFigure('ssh2');
