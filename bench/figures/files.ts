/** File transfer: putFile of a file of random bytes to a local child, against cp and Mitogen's FileService. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { FigureDef } from '../lib/figure.js';
import { hostScratch, makeFile, scp } from '../lib/host-scratch.js';
import { marker, repeat, stat, within } from '../lib/measure.js';

const MiB = 1 << 20;

const cp = (src: string, dst: string): Promise<void> => new Promise((resolve, reject) => {
  execFile('cp', [src, dst], (err) => (err ? reject(err) : resolve()));
});

export const files: FigureDef = {
  id: 'files',
  title: 'file transfer: putFile of a file of random bytes to a local child',
  goal: "within 1.5x of cp (>= 0.67x its MiB/s), faster than Mitogen's FileService",
  seconds: 10,
  needs: ['floor', 'mitogen'],
  met: (x) => x.vsFloor >= 1 / 1.5 && x.vsMitogen > 1,
  async measure(env) {
    const mib = env.quick ? 16 : 64;
    const reps = env.reps(3, 2);
    const dir = mkdtempSync(join(os.tmpdir(), 'mitogen-ts-bench-files-'));
    const src = join(dir, 'src.bin');
    const dst = join(dir, 'dst.bin');
    try {
      makeFile(src, mib);
      const router = env.router();
      const ctx = await within(router.local(), 60_000, 'local()');
      const rate = (t: number): number => mib / ((performance.now() - t) / 1000);
      const put: number[] = [];
      const get: number[] = [];
      const floor: number[] = [];
      // Untimed: the kit compiled in the child, the page cache warm for every side.
      await within(ctx.putFile(src, dst), 60_000, 'putFile');
      await within(ctx.getFile(dst, join(dir, 'back.bin')), 60_000, 'getFile');
      await cp(src, join(dir, 'cp.bin'));
      // Alternating, so load from elsewhere on the machine lands on every side.
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        await within(ctx.putFile(src, dst), 60_000, 'putFile');
        put.push(rate(t));
        t = performance.now();
        await within(ctx.getFile(dst, join(dir, 'back.bin')), 60_000, 'getFile');
        get.push(rate(t));
        unlinkSync(join(dir, 'cp.bin'));
        t = performance.now();
        await cp(src, join(dir, 'cp.bin'));
        floor.push(rate(t));
      });
      await router.shutdown();
      if (statSync(dst).size !== mib * MiB) throw new Error('putFile wrote the wrong size');
      const getStat = stat(get, 'MiB/s');
      return {
        mitogenTs: stat(put, 'MiB/s'), floor: stat(floor, 'MiB/s'),
        mitogen: await env.mitogen({ reps, path: src, dest: join(dir, 'mitogen.bin') }),
        notes: [`files: ${mib} MiB, master -> child, each side into the same temporary directory; the floor is cp of the same file. getFile (child -> master) of the same file: median ${getStat?.kind === 'stat' ? getStat.median.toFixed(0) : '?'} MiB/s. Mitogen's side is FileService.get in a child pulling from the master's FileService.`],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const HOSTS = '/var/tmp/mitogen-testbed/ssh/hosts.json';
const KEY = '/home/mitouser1/.ssh/id_mitotest';
const USER = 'mitouser1';

export const filesSsh: FigureDef = {
  id: 'files_ssh',
  title: 'file transfer through an ssh hop: putFile to a test host (OpenSSH client)',
  goal: 'within 1.5x of scp (>= 0.67x its MiB/s)',
  seconds: 15,
  needs: ['floor'],
  met: (x) => x.vsFloor >= 1 / 1.5,
  async measure(env) {
    if (!existsSync(HOSTS) || !existsSync(KEY)) {
      const none = marker('skipped', `the ssh test hosts are not up (${HOSTS}); npm test as root brings them up`);
      return { mitogenTs: none, floor: none, mitogen: none };
    }
    const tb = JSON.parse(readFileSync(HOSTS, 'utf8')) as { knownHosts: string; hosts: { name: string; addr: string }[] };
    const addr = tb.hosts.find((h) => h.name === 'h1')!.addr;
    const sshArgs = ['-o', `UserKnownHostsFile ${tb.knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'];
    const mib = env.quick ? 16 : 64;
    const reps = env.reps(3, 2);
    // The test host shares this filesystem; its user writes into a directory of its own.
    const { dir, out, src } = hostScratch('mitogen-ts-bench-files-ssh-', USER);
    try {
      makeFile(src, mib);
      const router = env.router();
      // Compression off, as scp's default: random bytes do not compress, and zlib would be the bottleneck on both.
      const ctx = await within(router.ssh({ hostname: addr, username: USER, identityFile: KEY, sshArgs, compression: false }), 60_000, 'ssh()');
      const rate = (t: number): number => mib / ((performance.now() - t) / 1000);
      const put: number[] = [];
      const floor: number[] = [];
      const scpArgs = ['-q', '-i', KEY, ...sshArgs, '-o', 'BatchMode yes', src, `${USER}@${addr}:${join(out, 'scp.bin')}`];
      await within(ctx.putFile(src, join(out, 'put.bin')), 60_000, 'putFile');
      await scp(scpArgs, 120_000);
      await repeat(reps, env.deadline(), async () => {
        let t = performance.now();
        await within(ctx.putFile(src, join(out, 'put.bin')), 120_000, 'putFile');
        put.push(rate(t));
        t = performance.now();
        await scp(scpArgs, 120_000);
        floor.push(rate(t));
      });
      await router.shutdown();
      return {
        mitogenTs: stat(put, 'MiB/s'), floor: stat(floor, 'MiB/s'),
        mitogen: await env.mitogen({ reps, path: src, dest: join(out, 'mitogen.bin'), ssh: { hostname: addr, username: USER, identity_file: KEY, ssh_args: sshArgs, compression: false } }),
        notes: [`files_ssh: ${mib} MiB to ${USER}@h1 over loopback (the host is a network namespace on this machine); the floor is scp of the same file with the same key and options; compression off on every side (scp's default); Mitogen's side is FileService.get in the ssh context.`],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
