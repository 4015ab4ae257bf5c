/**
 * The delay proxy as a process of its own (delay-proxy.ts' startProcess):
 * the link's forwarding then takes no turns from the measured process's main
 * thread, as a real network takes none. argv[2] is the options as JSON; the
 * port goes out on stdout as `port N`, then `connections N` when it changed (looked at every 50 ms);
 * stdin takes `cut` and `freeze`; the process ends when stdin closes.
 */
import { createInterface } from 'node:readline';
import { start } from './delay-proxy.js';
import type { DelayProxyOptions } from './delay-proxy.js';

const options = JSON.parse(process.argv[2] ?? '{}') as DelayProxyOptions;
let reported = -1;
const proxy = await start(options);
function report(): void {
  if (proxy.connections !== reported) { reported = proxy.connections; process.stdout.write(`connections ${reported}\n`); }
}
process.stdout.write(`port ${proxy.port}\n`);
setInterval(report, 50).unref();
const lines = createInterface({ input: process.stdin });
lines.on('line', (l) => { if (l === 'cut') proxy.cut(); else if (l === 'freeze') proxy.freeze(); });
lines.on('close', () => { void proxy.close().then(() => process.exit(0)); });
