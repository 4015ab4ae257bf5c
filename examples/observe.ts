/**
 * A live metric stream from two children, merged and windowed in the master.
 * Each child samples its own timer lag and memory every 50 ms and
 * streams the samples back as a remote Observable; the master merges both
 * streams, groups them into 500 ms windows and prints a summary per window.
 *
 *   npm run example:observe
 */
import { bufferTime, filter, map, merge, take } from 'rxjs';
import { runWithRouter } from '../src/index.js';

interface Sample { ctx: string; at: number; rssMiB: number; lagMs: number }

await runWithRouter(async (router) => {
  const [a, b] = await Promise.all([router.local({ name: 'worker-a' }), router.local({ name: 'worker-b' })]);

  // Runs in each child: an Observable of samples (rxjs is forwarded if the child lacks it).
  const sampler = async (name: string, periodMs: number) => {
    const { interval, map: mapOp } = await import('rxjs');
    let last = performance.now();
    return interval(periodMs).pipe(mapOp(() => {
      const now = performance.now();
      const lagMs = Math.max(0, now - last - periodMs); // how late this tick fired
      last = now;
      return { ctx: name, at: Date.now(), rssMiB: process.memoryUsage().rss / 2 ** 20, lagMs };
    }));
  };

  const windows = merge(a.observe<Sample>(sampler, a.name, 50), b.observe<Sample>(sampler, b.name, 50)).pipe(
    bufferTime(500),
    filter((w) => w.length > 0),
    map((w) => {
      const by = new Map<string, Sample[]>();
      for (const s of w) by.set(s.ctx, [...(by.get(s.ctx) ?? []), s]);
      return [...by].map(([ctx, ss]) => `${ctx}: ${ss.length} samples, rss ${ss.at(-1)!.rssMiB.toFixed(1)} MiB, max lag ${Math.max(...ss.map((s) => s.lagMs)).toFixed(2)} ms`).join(' | ');
    }),
    take(6),
  );

  await new Promise<void>((resolve, reject) => windows.subscribe({ next: (line) => console.log(line), error: reject, complete: resolve }));
  console.log('unsubscribed: both samplers were torn down in their children');
});
