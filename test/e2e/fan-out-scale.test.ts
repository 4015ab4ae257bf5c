/**
 * fanOut() at scale: 100 of the testbed's sshd hosts at once (ssh2 client),
 * 5 of them killed mid-run. Synchronised on events, not sleeps: every host
 * connects and answers a first call; each of the 5 victims then starts a
 * function that tells the master it is running remotely (a message on a
 * Receiver, with its node's pid) and waits; once all 5 have said so, their
 * remote node (3 hosts) or their per-connection sshd processes (2 hosts) are
 * SIGKILLed — found through `ip netns pids`, never the listening sshd the
 * other tests share — and only then do the 95 others make their second call.
 * Every other host's result must be complete and correct (its own hostname,
 * both calls), the 5 failed with the typed errors a lost connection raises,
 * and nothing hangs (per-target fanOut timeout, bounded waits).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { ChannelError, fanOut, MitogenError, Receiver, TimeoutError } from '../../src/index.js';
import type { Context, Sender } from '../../src/index.js';
import { routerFor } from '../helpers.js';
import { asUser1, host, sshTestbed } from '../testbed.js';

const N = 100;
/** Spread over the range; the first three lose their node, the last two their sshd. */
const VICTIMS = new Map<string, 'node' | 'sshd'>([['h7', 'node'], ['h33', 'node'], ['h58', 'node'], ['h71', 'sshd'], ['h96', 'sshd']]);

/** Rejects after ms: every wait here is bounded. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: not within ${ms / 1000} s`)), ms); })])
    .finally(() => clearTimeout(timer));
}

const ppid = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const netnsPids = (ns: string): Set<number> => new Set(execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number));

/**
 * What to SIGKILL on the victim: its node, or the sshd processes carrying this
 * connection — node's ancestors inside the host's netns up to (not including)
 * the listening daemon, whose pid the testbed recorded.
 */
function victimPids(name: string, nodePid: number, what: 'node' | 'sshd'): number[] {
  const h = host(name) as ReturnType<typeof host> & { pidFile?: string };
  const inNs = netnsPids(h.netns);
  if (!inNs.has(nodePid)) throw new Error(`${name}: node ${nodePid} is not in netns ${h.netns}`);
  if (what === 'node') return [nodePid];
  const daemon = Number(readFileSync(h.pidFile ?? `${sshTestbed().state}/hosts/${name}/sshd.pid`, 'utf8').trim());
  const chain: number[] = [];
  for (let p = ppid(nodePid), guard = 0; p > 1 && p !== daemon && guard < 20; p = ppid(p), guard++) {
    if (!inNs.has(p)) throw new Error(`${name}: ${p} (an ancestor of node ${nodePid}) is not in netns ${h.netns}`);
    if (/^sshd/.test(comm(p))) chain.push(p);
  }
  if (!chain.length) throw new Error(`${name}: no per-connection sshd above node ${nodePid}`);
  if (chain.includes(daemon)) throw new Error(`${name}: refusing to kill the listening sshd ${daemon}`);
  return chain;
}

test(`fanOut on ${N} hosts, 5 killed mid-run (3 nodes, 2 sshd sessions): 95 complete and correct results, 5 typed failures, no hang`, async (t) => {
  t.timeout(360_000);
  const router = routerFor(t);
  const names = Array.from({ length: N }, (_, i) => `h${i + 1}`);
  for (const v of VICTIMS.keys()) t.true(names.includes(v));

  // The victims' latch: each remote function sends its pid as soon as it runs there.
  const started = new Receiver(router);
  const startedPids = new Map<string, number>();
  let allStarted!: () => void;
  const allStartedP = new Promise<void>((res) => { allStarted = res; });
  void (async () => {
    for await (const msg of started) {
      const { name, pid } = msg.decode() as { name: string; pid: number };
      startedPids.set(name, pid);
      if (startedPids.size === VICTIMS.size) { allStarted(); return; }
    }
  })().catch(() => {});
  // The others wait for this before their second call: they are mid-run when the victims die.
  let killsDone!: () => void;
  const killed = new Promise<void>((res) => { killsDone = res; });
  const killedAt: Record<string, number[]> = {};
  const killErrors: string[] = [];
  const t0 = performance.now();
  let latchMs = Number.NaN;
  void within(allStartedP, 240_000, 'all 5 victims running remotely').then(() => {
    latchMs = performance.now() - t0;
    for (const [name, what] of VICTIMS) {
      try {
        const pids = victimPids(name, startedPids.get(name)!, what);
        killedAt[name] = pids;
        // Nearest node first; an sshd above it may exit by itself once its child is gone (ESRCH then).
        pids.forEach((p, i) => {
          try { process.kill(p, 'SIGKILL'); } catch (e) { if (i === 0 || (e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; }
        });
      } catch (e) {
        killErrors.push(`${name}: ${(e as Error).message}`);
      }
    }
  }, (e: Error) => { killErrors.push(e.message); }).finally(() => killsDone());

  const sender = started.toSender();
  const whoAmI = (ctx: Context): Promise<{ host: string; pid: number }> => ctx.call(() => ({ host: require('node:os').hostname() as string, pid: process.pid }));
  const targets = names.map((name) => ({ ...asUser1(name), client: 'ssh2' as const, connectTimeout: 120, name }));
  const run = fanOut(router, targets, async (ctx, target) => {
    const first = await whoAmI(ctx);
    if (VICTIMS.has(target.name)) {
      // Runs remotely until killed (bounded: 10 minutes, far past every timeout here).
      await ctx.call(async (s: Sender, name: string) => {
        s.send({ name, pid: process.pid });
        await new Promise((r) => setTimeout(r, 600_000));
      }, sender, target.name);
      throw new Error(`${target.name}: the victim's call returned`);
    }
    await killed;
    const second = await whoAmI(ctx);
    return { first, second };
  }, { concurrency: N, timeout: 240 });
  const connected = new Set<string>();
  run.events.subscribe((e) => { if (e.type === 'connected') connected.add(e.target.name); });

  const summary = await within(run.done, 330_000, 'fanOut on 100 hosts');
  t.log(`${summary.ok.length} ok, ${summary.failed.length} failed in ${(summary.ms / 1000).toFixed(1)} s; the 5 victims were running remotely after ${(latchMs / 1000).toFixed(1)} s; killed ${JSON.stringify(killedAt)}`);
  t.deepEqual(killErrors, [], 'every kill went as planned');
  t.is(connected.size, N, 'every host connected before any was killed');
  t.deepEqual(Object.keys(killedAt).sort(), [...VICTIMS.keys()].sort(), 'all 5 victims were killed');

  const live = names.filter((n) => !VICTIMS.has(n));
  t.deepEqual(summary.ok.map((o) => o.target.name), live, 'every other host succeeded, in order');
  for (const o of summary.ok) {
    t.is(o.result.first.host, o.target.name, `${o.target.name}: first call ran there`);
    t.deepEqual(o.result.second, o.result.first, `${o.target.name}: second call, after the kills, on the same process`);
  }
  t.deepEqual(summary.failed.map((f) => f.target.name), [...VICTIMS.keys()].sort((a, b) => names.indexOf(a) - names.indexOf(b)));
  t.log(summary.failed.map((f) => `${f.target.name}: ${f.error.constructor.name}: ${f.error.message}`).join('\n'));
  for (const f of summary.failed) {
    const e = f.error;
    t.true(e instanceof MitogenError, `${f.target.name}: ${e.constructor.name}: ${e.message}`);
    t.false(e instanceof TimeoutError, `${f.target.name}: failed because it was killed, not by the deadline: ${e.message}`);
    // A lost connection: the call pending on it ends with ChannelError, naming the context.
    t.true(e instanceof ChannelError, `${f.target.name}: ${e.constructor.name}: ${e.message}`);
    t.regex(e.message, new RegExp(`context ${f.target.name} \\(id \\d+\\) has disconnected`));
    t.true(f.ms < 240_000);
  }
});
