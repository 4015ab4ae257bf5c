/**
 * Concurrent calls while children die: rounds of `perRound` calls spread over
 * 10 fresh children, with 5% of all the children started SIGKILLed mid-flight.
 * Every call must settle exactly once: a survivor's with its own result, a
 * killed child's with its result or ChannelError, nothing else.
 */
import { ChannelError, Router } from '../../src/index.js';

export interface LoadFigures {
  ok: boolean;
  rounds: number;
  calls: number;
  children: number;
  killed: number;
  failedWithChannelError: number;
  problems: string[];
  seconds: number;
}

const CHILDREN = 10;
const KILL_SHARE = 0.05;

async function round(perRound: number, kills: number, problems: string[]): Promise<{ calls: number; channel: number }> {
  const router = new Router();
  try {
    const children = await Promise.all(Array.from({ length: CHILDREN }, () => router.local()));
    const pids = await Promise.all(children.map((c) => c.call(() => process.pid)));
    const victims = new Set(Array.from({ length: kills }, (_, i) => (i * 3 + 1) % CHILDREN));
    const settled = new Uint8Array(perRound);
    let channel = 0;
    const calls = Array.from({ length: perRound }, (_, i) => {
      const k = i % CHILDREN;
      return children[k]!.call(async (n: number) => { await new Promise((r) => setImmediate(r)); return n; }, i).then(
        (v) => { settled[i]++; if (v !== i) problems.push(`call ${i} returned ${v}`); },
        (e: unknown) => {
          settled[i]++;
          if (!(e instanceof ChannelError) || !victims.has(k)) problems.push(`call ${i} to child ${k}: ${(e as Error).name}: ${(e as Error).message}`);
          else channel++;
        },
      );
    });
    for (const k of victims) process.kill(pids[k]!, 'SIGKILL'); // mid-flight: the calls are on their way
    await Promise.all(calls);
    const wrong = settled.filter((n) => n !== 1).length;
    if (wrong) problems.push(`${wrong} calls settled other than exactly once`);
    for (const [k, c] of children.entries()) {
      if (!victims.has(k) && (await c.call((x: number) => x + 1, k)) !== k + 1) problems.push(`survivor ${k} answered wrongly`);
    }
    return { calls: perRound, channel };
  } finally {
    await router.shutdown();
  }
}

export async function runLoad(rounds: number, perRound: number, seconds: number): Promise<LoadFigures> {
  const t0 = performance.now();
  const deadline = Date.now() + seconds * 1000;
  const problems: string[] = [];
  let done = 0;
  let calls = 0;
  let killed = 0;
  let channel = 0;
  while (done < rounds && Date.now() < deadline) {
    // Kill so that, all rounds together, 5% of the children started die (rounded as we go).
    const due = Math.round(KILL_SHARE * CHILDREN * (done + 1)) - killed;
    const r = await round(perRound, due, problems);
    calls += r.calls;
    channel += r.channel;
    killed += due;
    done++;
    process.stdout.write(`  load: round ${done}/${rounds}, ${calls} calls, ${killed} children killed\n`);
  }
  return {
    ok: done === rounds && problems.length === 0,
    rounds: done,
    calls,
    children: done * CHILDREN,
    killed,
    failedWithChannelError: channel,
    problems: problems.slice(0, 20),
    seconds: (performance.now() - t0) / 1000,
  };
}
