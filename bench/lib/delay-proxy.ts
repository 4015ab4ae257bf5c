/**
 * A userspace TCP delay proxy: a loopback listener that forwards each
 * connection to `target` and delays every chunk by `delayMs` in each
 * direction, order kept. The kernel here has no netem, so the bench and the
 * tests put this in front of a test host's sshd to see a WAN's round trip.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface DelayProxyOptions {
  /** Where each accepted connection is forwarded (e.g. a test host's sshd). */
  target: { host: string; port: number };
  /** Delay added to each chunk, each way; a round trip costs 2 x delayMs. */
  delayMs: number;
  /** Told of every chunk as it arrives, before it is delayed ('down': from the target), e.g. to cut a link mid-transfer. */
  tap?: (direction: 'up' | 'down', bytes: number) => void;
  /** Connections held at once; one more is refused (reset). Default 64. */
  maxConnections?: number;
}

export interface DelayProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number;
  /** Connections currently forwarded. */
  readonly connections: number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
  /** Destroys every current connection (a link cut mid-burst); keeps listening. */
  cut(): void;
  /** Stops carrying bytes, both ways, on every link, while keeping them open: a host that stopped answering. */
  freeze(): void;
}

/** One direction of a link: chunks leave `delayMs` after they arrived, in order. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number, tap?: (bytes: number) => void, frozen?: () => boolean): void {
  // setTimeout with equal delays fires in order of scheduling, so order is kept.
  from.on('data', (chunk: Buffer) => {
    if (frozen?.()) return;
    tap?.(chunk.length);
    setTimeout(() => { if (!to.destroyed) to.write(chunk); }, delayMs);
  });
  from.on('end', () => { setTimeout(() => { if (!to.destroyed) to.end(); }, delayMs); });
}

export async function start(options: DelayProxyOptions): Promise<DelayProxy> {
  const { target, delayMs } = options;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delay proxy: delayMs must be a finite number >= 0, got ${delayMs}`);
  const maxConnections = options.maxConnections ?? 64;
  const live = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    if (live.size / 2 >= maxConnections) { client.resetAndDestroy(); return; }
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      // A wire does not coalesce: without this, Nagle in the proxy holds a small chunk behind an
      // unacknowledged one until the peer's delayed ACK (40 ms), a stall no real link adds.
      s.setNoDelay(true);
      live.add(s);
      s.on('close', () => { live.delete(s); client.destroy(); upstream.destroy(); });
      s.on('error', () => { /* the close handler ends the pair */ });
    }
    const tap = options.tap;
    delayedPipe(client, upstream, delayMs, tap && ((n) => tap('up', n)), () => frozen);
    delayedPipe(upstream, client, delayMs, tap && ((n) => tap('down', n)), () => frozen);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as net.AddressInfo).port;
  const cut = (): void => { for (const s of live) s.destroy(); };
  return {
    port,
    get connections() { return live.size / 2; },
    cut,
    freeze: () => { frozen = true; },
    close: () => new Promise<void>((resolve) => { cut(); server.close(() => resolve()); }),
  };
}

/**
 * The same proxy in a process of its own (delay-proxy-main.ts), for figures
 * that measure throughput: in the measuring process it would share the main
 * thread with the consumer it is measuring. No `tap`: chunks are not seen here.
 */
export async function startProcess(options: Omit<DelayProxyOptions, 'tap'>): Promise<DelayProxy> {
  const main = fileURLToPath(new URL('./delay-proxy-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let connections = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`delay proxy process exited with status ${code} before listening`)));
    lines.on('line', (l) => {
      const [what, n] = l.split(' ');
      if (what === 'port') resolve(Number(n));
      else if (what === 'connections') connections = Number(n);
    });
  });
  const exited = once(child, 'exit');
  return {
    port,
    get connections() { return connections; },
    cut: () => { child.stdin.write('cut\n'); },
    freeze: () => { child.stdin.write('freeze\n'); },
    close: async () => { if (child.exitCode === null && child.signalCode === null) { child.stdin.end(); await exited; } },
  };
}
