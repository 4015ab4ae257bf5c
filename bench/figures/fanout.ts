/** Fan-out: many local children started at once, one call each. */
import type { FigureDef } from '../lib/figure.js';
import { repeat, stat, within } from '../lib/measure.js';

const CHILDREN = 50;

export const fanout: FigureDef = {
  id: 'fanout',
  title: `fan-out: start ${CHILDREN} local children in parallel and call each once`,
  goal: "<= Mitogen's",
  seconds: 60,
  needs: ['mitogen'],
  met: (x) => x.vsMitogen <= 1,
  async measure(env) {
    // Always 50 children, so a quick run's figure means the same; --quick takes fewer repetitions.
    const reps = env.reps(5, 1);
    const router = env.router();
    const ts: number[] = [];
    await repeat(reps, env.deadline(), async () => {
      const t = performance.now();
      const ctxs = await within(Promise.all(Array.from({ length: CHILDREN }, () => router.local())), 120_000, `${CHILDREN} x local()`);
      await within(Promise.all(ctxs.map((c) => c.call(() => null))), 30_000, 'calls');
      ts.push((performance.now() - t) / 1000);
      // All gone before the next repetition, so exiting children do not compete with starting ones.
      await within(Promise.all(ctxs.map((c) => c.shutdown({ wait: true }))), 60_000, 'shutdown');
    });
    await router.shutdown();
    return {
      mitogenTs: stat(ts, 's'), floor: null, mitogen: await env.mitogen({ reps, children: CHILDREN }),
      notes: [`fanout: mitogen-ts starts its ${CHILDREN} children with one Promise.all; Mitogen's router.local() blocks its caller, so its side connects from ${CHILDREN} threads at once, its fastest way (a sequential loop took about twice as long when checked on this machine).`],
    };
  },
};
