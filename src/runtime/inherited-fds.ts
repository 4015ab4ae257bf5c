/**
 * A child closes terminals it inherited by accident. node-pty's open() makes
 * PTY fds without close-on-exec, so a process spawned while a login is under
 * way elsewhere in its parent inherits that login's terminal: it would keep
 * the terminal from hanging up, and could type into it. Contexts need only
 * fds 0-2 from their parent.
 */
import { closeSync, readdirSync, readlinkSync } from 'node:fs';

export function closeInheritedTerminals(): number {
  let closed = 0;
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return 0; // not Linux: nothing to do
  }
  for (const name of fds) {
    const fd = Number(name);
    if (!(fd > 2)) continue;
    let target: string;
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target === '/dev/ptmx' || target.startsWith('/dev/pts/')) {
      // A plain close: a tty handle would re-open the terminal by path, which fails
      // once the login that owned it has ended (EIO) and would leave the fd open.
      try { closeSync(fd); closed++; } catch { /* already gone */ }
    }
  }
  return closed;
}
