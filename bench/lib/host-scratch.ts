/** Scratch space for the figures that move files to a test host (the hosts share this machine's filesystem). */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const MiB = 1 << 20;

/** `mib` MiB of random bytes at `path`, written 16 MiB at a time. */
export function makeFile(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i += 16) writeSync(fd, randomBytes(Math.min(16, mib - i) * MiB));
  } finally { closeSync(fd); }
}

/**
 * A fresh directory of ours (`dir`, removed by the caller) holding `out`,
 * owned by the test host's `user` so it can write there, and the path `src`
 * for the file to send.
 */
export function hostScratch(prefix: string, user: string): { dir: string; out: string; src: string } {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  const out = join(dir, 'out');
  chmodSync(dir, 0o755);
  mkdirSync(out);
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  chownSync(out, uid, uid);
  return { dir, out, src: join(dir, 'src.bin') };
}

/** scp with `args` (the floor of the file figures), failing after `timeoutMs`. */
export function scp(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('scp', args, { timeout: timeoutMs }, (err) => (err ? reject(err) : resolve()));
  });
}
