/**
 * Where node-pty lives, so a context that opens a PTY for a login (this one,
 * or one it connects through on the same machine) can load its native part.
 * Native code cannot be forwarded; a remote context without node-pty says so.
 */
import { dirname } from 'node:path';
import { createRequire } from 'node:module';

let dir: string | undefined | null;

export function ptyModuleDir(): string | undefined {
  if (dir === undefined) {
    try {
      const req = createRequire(import.meta.url || `file://${process.cwd()}/`);
      dir = dirname(dirname(req.resolve('node-pty')));
    } catch {
      dir = null;
    }
  }
  return dir ?? undefined;
}
