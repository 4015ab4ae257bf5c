/**
 * fakessh: rsync a directory into a local child, through no ssh at all. The
 * `ssh` rsync runs is fakessh's, which starts rsync's far end in the child
 * and relays its stdio over the context's connection; the same works for a
 * context any number of hops away (ssh, sudo, a grandchild).
 *
 *   npx tsx examples/rsync.ts
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fakessh, runWithRouter } from '../src/index.js';

const dir = mkdtempSync(join(os.tmpdir(), 'mitogen-ts-rsync-example-'));
try {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'hello.txt'), 'hello from the master\n');
  writeFileSync(join(src, 'sub', 'data.bin'), Buffer.alloc(1 << 20, 7));
  symlinkSync('hello.txt', join(src, 'link'));

  await runWithRouter(async (router) => {
    const child = await router.local({ name: 'rsync-target' });
    const dst = join(dir, 'dst');
    // The host name ("target") is ignored: every ssh this rsync starts reaches `child`.
    const r = await fakessh.run(child, ['rsync', '-a', '--stats', `${src}/`, `target:${dst}/`]);
    console.log(r.stdout.trim());
    console.log(`rsync exited with ${r.code}${r.stderr ? `; stderr: ${r.stderr.trim()}` : ''}`);
    // Look from the child's side, where rsync's far end wrote.
    console.log('in the child:', await child.call((d: string) => require('node:fs').readdirSync(d, { recursive: true }), dst));
    // And a plain remote command: its status comes back as ssh's.
    console.log('ssh target "exit 3" ->', (await fakessh.run(child, ['ssh', 'target', 'exit 3'])).code);
  });
  console.log('source tree:', readdirSync(src, { recursive: true }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
