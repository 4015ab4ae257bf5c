/** Starting contexts and what they weigh: boot, idle RSS, fork. */
import { bareNodeRss, nodeStart, rssMb, workerStart } from '../floor/floor.js';
import type { FigureDef } from '../lib/figure.js';
import { marker, repeat, sleep, stat, within } from '../lib/measure.js';

const noop = (): null => null;
/** How long a fresh child idles before its RSS is read, on every side: start-up garbage is collected or not, alike. */
const SETTLE_MS = 200;

export const boot: FigureDef = {
  id: 'boot',
  title: "boot: local() to the first call's result",
  goal: "<= Mitogen's (node -e 0 for reference)",
  seconds: 40,
  needs: ['mitogen'],
  met: (x) => x.vsMitogen <= 1,
  async measure(env) {
    const reps = env.reps(15, 3);
    const router = env.router();
    const ts: number[] = [];
    const floor: number[] = [];
    // Untimed first boot: from the TypeScript sources the runtime payload is bundled on first use.
    const first = await within(router.local(), 60_000, 'warm-up local()');
    await first.call(noop);
    await first.shutdown({ wait: true });
    // mitogen-ts and the floor alternate, so a load change on this shared machine hits both alike.
    await repeat(reps, env.deadline(), async () => {
      floor.push(await nodeStart());
      const t = performance.now();
      const ctx = await within(router.local(), 60_000, 'local()');
      await within(ctx.call(noop), 30_000, 'first call');
      ts.push(performance.now() - t);
      await within(ctx.shutdown({ wait: true }), 30_000, 'shutdown');
    });
    await router.shutdown();
    return { mitogenTs: stat(ts, 'ms'), floor: stat(floor, 'ms'), mitogen: await env.mitogen({ reps }) };
  },
};

export const rss: FigureDef = {
  id: 'rss',
  title: 'idle child RSS',
  goal: '<= node + one idle worker (the floor) + 3 MiB',
  seconds: 30,
  needs: ['floor'],
  // The floor's median is value / vsFloor (both from this run).
  met: (x) => x.value - x.value / x.vsFloor <= 3,
  async measure(env) {
    const reps = env.reps(7, 3);
    const router = env.router();
    const ts: number[] = [];
    const floor: number[] = [];
    const bare: number[] = [];
    await repeat(reps, env.deadline(), async () => {
      bare.push(await bareNodeRss(SETTLE_MS));
      floor.push(await bareNodeRss(SETTLE_MS, true));
      const ctx = await within(router.local(), 60_000, 'local()');
      const pid = await within(ctx.call(() => process.pid), 30_000, 'pid call');
      await sleep(SETTLE_MS);
      ts.push(rssMb(pid));
      await within(ctx.shutdown({ wait: true }), 30_000, 'shutdown');
    });
    await router.shutdown();
    return {
      mitogenTs: stat(ts, 'MiB'), floor: stat(floor, 'MiB'),
      mitogen: await env.mitogen({ reps, settle_ms: SETTLE_MS }),
      moreFloors: [{ label: 'bare node', side: stat(bare, 'MiB'), where: 'cell' }],
      notes: [`RSS: VmRSS from /proc/<pid>/status, ${SETTLE_MS} ms after the child's first call; the floor is an idle node that started one idle worker thread (\`new Worker\`, eval'd, up), the bare node (no worker) for reference, each ${SETTLE_MS} ms after it is up.`],
    };
  },
};

export const fork: FigureDef = {
  id: 'fork',
  title: 'fork(): start + first call (a fork of a child context)',
  goal: '< 65 ms',
  seconds: 30,
  needs: [],
  met: (x) => x.value < 65,
  async measure(env) {
    const reps = env.reps(15, 5);
    const floor: number[] = [];
    await repeat(reps, env.deadline(), async () => { floor.push(await workerStart()); });
    const mitogen = await env.mitogen({ reps });
    const router = env.router();
    if (typeof router.fork !== 'function') return { mitogenTs: marker('not built', 'router.fork is not a function'), floor: stat(floor, 'ms'), mitogen };
    const ts: number[] = [];
    // As Mitogen's side (router.fork(via=parent)): forks of one child, each shut down before the next.
    const parent = await within(router.local(), 60_000, 'local()');
    await parent.call(noop);
    const warm = await within(router.fork({ via: parent }), 30_000, 'warm-up fork()');
    await warm.shutdown({ wait: true });
    await repeat(reps, env.deadline(), async () => {
      const t = performance.now();
      const f = await within(router.fork({ via: parent }), 30_000, 'fork()');
      await within(f.call(noop), 30_000, 'first call');
      ts.push(performance.now() - t);
      await within(f.shutdown({ wait: true }), 30_000, 'shutdown');
    });
    await router.shutdown();
    return { mitogenTs: stat(ts, 'ms'), floor: stat(floor, 'ms'), mitogen };
  },
};
