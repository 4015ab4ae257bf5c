/** File transfer: putFile of a file of random bytes to a local child, against cp and Mitogen's FileService. */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { FigureDef } from '../lib/figure.js';
import { repeat, stat, within } from '../lib/measure.js';

const MiB = 1 << 20;

function makeFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i += 16) writeSync(fd, randomBytes(Math.min(16, mib - i) * MiB));
  } finally { closeSync(fd); }
}

const cp = (src: string, dst: string): Promise<void> => new Promise((resolve, reject) => {
  execFile('cp', [src, dst], (err) => (err ? reject(err) : resolve()));
});

export const files: FigureDef = {
  id: 'files',
  title: 'file transfer: putFile of a file of random bytes to a local child',
  goal: '>= 2x Mitogen\'s FileService',
  seconds: 10,
  needs: ['mitogen'],
  met: (x) => x.vsMitogen >= 2,
  async measure(env) {
    const mib = env.quick ? 32 : 64;
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
