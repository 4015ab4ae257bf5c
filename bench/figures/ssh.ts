/** ssh: bootstrap + first call to one of the project's test hosts (sshd in a network namespace on this machine). */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Router } from '../../src/index.js';
import type { FigureDef } from '../lib/figure.js';
import { marker, repeat, stat, within } from '../lib/measure.js';

const HOSTS = '/var/tmp/mitogen-testbed/ssh/hosts.json';
const KEY = '/home/mitouser1/.ssh/id_mitotest';
const USER = 'mitouser1';

/** One bootstrap + first call + shutdown with the given client, in ms. */
async function once(router: Router, client: 'openssh' | 'ssh2', addr: string, sshArgs: string[]): Promise<number> {
  const t = performance.now();
  const ctx = await within(router.ssh({ hostname: addr, username: USER, identityFile: KEY, sshArgs, client }), 60_000, 'ssh()');
  await within(ctx.call(() => null), 30_000, 'first call');
  const ms = performance.now() - t;
  await within(ctx.shutdown({ wait: true }), 30_000, 'shutdown');
  return ms;
}

function sshFigure(client: 'openssh' | 'ssh2'): FigureDef {
  return {
    id: client === 'openssh' ? 'ssh' : 'ssh2',
    title: `ssh (${client === 'openssh' ? 'OpenSSH' : 'in-process ssh2'} client): bootstrap + first call to a local test host`,
    goal: client === 'openssh' ? 'faster than Mitogen' : 'faster than Mitogen and than the OpenSSH client',
    seconds: 30,
    needs: ['mitogen'],
    met: (x) => x.vsMitogen < 1 && (client === 'openssh' || x.value < x.reference),
    async measure(env) {
      const router = env.router();
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
      const openssh: number[] = [];
      // ssh2's goal names the OpenSSH client: both are timed here, alternating.
      await repeat(reps, env.deadline(), async () => {
        ts.push(await once(router, client, addr, sshArgs));
        if (client === 'ssh2') openssh.push(await once(router, 'openssh', addr, sshArgs));
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
      return {
        mitogenTs: stat(ts, 'ms'), floor: stat(floor, 'ms'),
        mitogen: await env.mitogen({ reps, ssh: { hostname: addr, username: USER, identity_file: KEY, ssh_args: sshArgs } }),
        ...(client === 'ssh2' ? { reference: { label: 'mitogen-ts with the OpenSSH client', side: stat(openssh, 'ms') } } : {}),
        notes: [client === 'openssh'
          ? 'ssh: the floor is `ssh host true` with the same key and options; Mitogen runs the same OpenSSH client.'
          : 'ssh2: the same host, key and known_hosts through the in-process client (no ssh process); its goal compares it with mitogen-ts on the OpenSSH client, timed alternately in this figure (the reference column of latest.json).'],
      };
    },
  };
}

export const ssh = sshFigure('openssh');
export const ssh2 = sshFigure('ssh2');
