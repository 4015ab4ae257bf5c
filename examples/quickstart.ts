/**
 * Quick start: a child and a grandchild, calls into both, and their console
 * output forwarded to this terminal, tagged with each context's name.
 *
 *   npm install && npm run example
 */
import os from 'node:os';
import { runWithRouter } from '../src/index.js';

await runWithRouter(async (router) => {
  const child = await router.local({ name: 'child' });
  const grandchild = await router.local({ via: child, name: 'grandchild' });

  // A function travels by its source; arguments and results as msgpack.
  const whoami = () => ({ pid: process.pid, ppid: process.ppid, title: process.title });
  console.log('master     ', { pid: process.pid, host: os.hostname() });
  console.log('child      ', await child.call(whoami));
  console.log('grandchild ', await grandchild.call(whoami));

  // Imports inside a called function are served from here if the target lacks them.
  const sum = await grandchild.call(async (xs: number[]) => {
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(JSON.stringify(xs)).digest('hex').slice(0, 12);
    console.log(`grandchild computed a digest: ${digest}`);
    return xs.reduce((a, b) => a + b, 0);
  }, [1, 2, 3, 4]);
  console.log('sum from the grandchild:', sum);

  // A remote failure is a CallError carrying the remote type, message and stack.
  try {
    await child.call(() => { throw new TypeError('no such thing'); });
  } catch (e) {
    console.log('remote error:', (e as Error).message);
  }
});
console.log('all contexts shut down');
