/**
 * The fake `ssh` that fakessh puts first on a program's PATH. Its source is
 * written to a file and run by plain `node` (so it is self-contained: no
 * imports, CommonJS `require`). It connects to the master's unix socket,
 * sends its arguments and working directory as one JSON line, then its stdin
 * as raw bytes (half-closing at EOF). The master answers with frames
 * [type u8][length u32 BE][payload]: 1 stdout, 2 stderr, 3 exit (an int32
 * status), and this process exits with that status once its output is
 * flushed. stdout and stderr are written off the event loop, so a program
 * that writes to us while we write to it never deadlocks.
 */
export const FRAME_STDOUT = 1;
export const FRAME_STDERR = 2;
export const FRAME_EXIT = 3;

export function fakesshClient(sockPath: string, argv: string[]): void {
  const net = require('node:net') as typeof import('node:net');
  const fs = require('node:fs') as typeof import('node:fs');

  /**
   * Writes to fd 1 or 2 with fs.write, in order, through the thread pool: no
   * flag of the descriptor changes (the program may share it, e.g. its
   * stderr), EAGAIN (a descriptor someone made non-blocking) is retried, and
   * EPIPE (the program stopped reading) drops the rest quietly.
   */
  let unflushed = 0;
  let whenFlushed: (() => void) | undefined;
  const flushed = (n: number): void => {
    unflushed -= n;
    if (unflushed <= HIGH_WATER) sock.resume();
    if (unflushed === 0) whenFlushed?.();
  };
  const writerFor = (fd: number): ((data: Uint8Array) => void) => {
    let chain = Promise.resolve();
    let broken = false;
    const writeAll = async (data: Uint8Array): Promise<void> => {
      for (let off = 0; off < data.byteLength && !broken;) {
        try {
          off += await new Promise<number>((resolve, reject) => fs.write(fd, data, off, data.byteLength - off, null, (e, n) => (e ? reject(e) : resolve(n))));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') await new Promise((r) => setTimeout(r, 2));
          else broken = true;
        }
      }
    };
    return (data) => {
      unflushed += data.byteLength;
      if (unflushed > HIGH_WATER) sock.pause();
      chain = chain.then(() => writeAll(data)).then(() => flushed(data.byteLength));
    };
  };
  const HIGH_WATER = 1024 * 1024;
  const out = writerFor(1);
  const err = writerFor(2);

  const sock = net.connect({ path: sockPath, allowHalfOpen: true });
  sock.write(`${JSON.stringify({ argv, cwd: process.cwd() })}\n`);
  process.stdin.on('error', () => {});
  process.stdin.pipe(sock);

  let exited = false;
  let pending: Buffer = Buffer.alloc(0);
  sock.on('data', (data: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, data]) : data;
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      const type = pending[0];
      const payload = pending.subarray(5, 5 + len);
      pending = pending.subarray(5 + len);
      if (type === 3) {
        exited = true;
        const code = payload.readInt32BE(0);
        sock.destroy();
        // Exit once everything is written. Never shut fds 1 and 2 down: they may be sockets
        // shared with the program (Node's and scp's pipes are socketpairs); that would cut its stderr too.
        if (unflushed === 0) process.exit(code);
        else whenFlushed = () => process.exit(code);
        return;
      }
      // Backpressure: the writer pauses the socket while over a MiB is unwritten.
      (type === 1 ? out : err)(payload);
    }
  });
  const lost = (why: string): void => {
    if (exited) return;
    exited = true;
    whenFlushed = () => process.exit(255);
    err(Buffer.from(`fakessh: lost the connection to mitogen-ts (${why})\n`));
  };
  sock.on('error', (e) => lost(e.message));
  sock.on('close', () => lost('closed'));
}
