/**
 * What the ssh transport alone carries from a host: the ssh2 client (with the
 * receive window mitogen-ts keeps, actors/ssh2/ssh2-session.ts) reading
 * `head -c N /dev/zero` through `port` — sshd reading a pipe, encrypting, the
 * link, ssh2 decrypting — and nothing of mitogen-ts. A stream over ssh cannot
 * beat it, so it is the ceiling a stream figure is read against.
 */
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { widenWindow } from '../../actors/ssh2/ssh2-session.js';

const MiB = 1 << 20;

export function sshReadRate(port: number, user: string, key: string, mib: number, timeoutMs = 120_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    const timer = setTimeout(() => { c.end(); reject(new Error(`ssh read of ${mib} MiB took over ${timeoutMs} ms`)); }, timeoutMs);
    const fail = (e: Error): void => { clearTimeout(timer); c.end(); reject(e); };
    c.on('error', fail);
    c.on('ready', () => c.exec(`head -c ${mib * MiB} /dev/zero`, (err, ch) => {
      if (err) { fail(err); return; }
      widenWindow(c, ch, 16 * MiB);
      let n = 0;
      const t = performance.now();
      ch.on('data', (d: Buffer) => { n += d.length; });
      ch.on('close', () => {
        clearTimeout(timer);
        c.end();
        if (n !== mib * MiB) reject(new Error(`ssh read ${n} bytes of ${mib * MiB}`));
        else resolve(mib / ((performance.now() - t) / 1000));
      });
    }));
    c.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(key), hostVerifier: () => true, algorithms: { compress: ['none'] } });
    c.setNoDelay(true);
  });
}
