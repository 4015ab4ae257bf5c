/**
 * The fan-out section: `uname -r` on 20 and on 100 of the testbed's ssh hosts
 * (sshd in network namespaces on this machine), at loopback and at a 20 ms
 * round trip (one lib/delay-proxy.ts per host in front of its sshd, 10 ms each
 * way), by `mitogen-ts exec` with the ssh2 client (the figure), parallel-ssh
 * (the floor), Ansible ad-hoc (the goal's reference) and `mitogen-ts exec`
 * with the OpenSSH client (in the notes). Every tool is one process spawned
 * under /usr/bin/time, given the same generated ssh_config, hosts and
 * concurrency (as many as hosts), and its output checked (one `uname -r` line
 * per host) before its time counts. Tools alternate within each repetition.
 *
 * Then, from lib/fan-child.mjs (the library, built, in its own process): a
 * second command on contexts a `fanOut({ keep: true })` kept, at 20 ms, with
 * the round trips it took counted at the proxies; the master's RSS per
 * connected host with the ssh2 client; and a two-level tree (5 hosts through
 * the proxies, 19 more each through them with `via`) against flat 100.
 *
 * One measurement per (hosts, latency) is shared by the figures that read it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FigureDef, Measured } from '../lib/figure.js';
import { openFleet, runMeasured, testbed, unameLines } from '../lib/fleet.js';
import type { Fleet, Run } from '../lib/fleet.js';
import { marker, repeat, stat } from '../lib/measure.js';
import type { Deadline, Side } from '../lib/measure.js';
import type { Env } from '../lib/figure.js';

const DELAY_MS = 10;
const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const CHILD = fileURLToPath(new URL('../lib/fan-child.mjs', import.meta.url));
const MiB = 1024;

type Tool = 'ssh2' | 'openssh' | 'pssh' | 'ansible';
const TOOLS: Tool[] = ['ssh2', 'openssh', 'pssh', 'ansible'];
const LABEL: Record<Tool, string> = { ssh2: 'mitogen-ts exec --client ssh2', openssh: 'mitogen-ts exec --client openssh', pssh: 'parallel-ssh', ansible: 'ansible ad-hoc' };

function argv(tool: Tool, f: Fleet): { argv: string[]; env?: NodeJS.ProcessEnv } {
  const n = String(f.hosts.length);
  switch (tool) {
    case 'ssh2': case 'openssh':
      // --connect-timeout 110: on a loaded 2-core machine one of 100 bootstraps at once can take longer
      // than the default 30 s; parallel-ssh and Ansible get 120 s too.
      return { argv: [process.execPath, CLI, 'exec', '-F', f.sshConfig, '--client', tool, '--parallel', n, '-t', '120', '--connect-timeout', '110', '--hosts-file', f.hostsFile, '--', 'uname', '-r'] };
    case 'pssh':
      return { argv: ['parallel-ssh', '-h', f.hostsFile, '-p', n, '-t', '120', '-i', '-x', `-F ${f.sshConfig}`, 'uname', '-r'] };
    case 'ansible':
      // Its own defaults but no ControlPersist (a second repetition would reuse the first's masters);
      // host key checking off in Ansible (it would look for the aliases in ~/.ssh/known_hosts and
      // serialise connections under its lock) — ssh still checks, against the fleet's known_hosts.
      return {
        argv: ['ansible', 'all', '-i', f.inventory, '-f', n, '-m', 'command', '-a', 'uname -r'],
        env: {
          ANSIBLE_SSH_ARGS: `-F ${f.sshConfig} -o ControlMaster=no -o ControlPath=none -o StrictHostKeyChecking=yes`,
          ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: `${f.dir}/ansible-local`,
          ANSIBLE_TIMEOUT: '60', ANSIBLE_DEPRECATION_WARNINGS: 'False',
        },
      };
  }
}

interface Section { n: number; delayMs: number; runs: Record<Tool, Run[]>; errors: string[] }

async function measureSection(n: number, delayMs: number, reps: number, dl: Deadline): Promise<Section> {
  const fleet = await openFleet(n, delayMs);
  const runs: Record<Tool, Run[]> = { ssh2: [], openssh: [], pssh: [], ansible: [] };
  const errors: string[] = [];
  try {
    await repeat(reps, dl, async () => {
      for (const tool of TOOLS) {
        const a = argv(tool, fleet);
        const r = await runMeasured(a.argv, { env: a.env, timeoutMs: 240_000 });
        const lines = unameLines(r.stdout);
        if (r.code === 0 && lines === n) runs[tool].push(r);
        else {
          const why = (r.stderr || r.stdout).trim().split('\n').filter((l) => /FAILED|error|fatal|UNREACHABLE|Timed out/i.test(l));
          errors.push(`${LABEL[tool]}: exit ${r.code}, ${lines}/${n} hosts answered: ${why.slice(0, 3).join(' / ').slice(0, 400)}`);
        }
      }
    });
  } finally {
    await fleet.close();
  }
  return { n, delayMs, runs, errors };
}

const sections = new Map<string, Promise<Section>>();
/** Measured once per run, for every figure that reads it. */
function section(env: Env, n: number, delayMs: number): Promise<Section> {
  const key = `${n}/${delayMs}`;
  let s = sections.get(key);
  if (!s) { s = measureSection(n, delayMs, env.reps(3, 1), env.deadline()); sections.set(key, s); }
  return s;
}

const side = (runs: Run[], pick: (r: Run) => number, unit: string, why: string[]): Side =>
  (runs.length ? stat(runs.map(pick), unit) : marker('error', why.join('; ') || 'no run'));

const num = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const med = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length ? (s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : Number.NaN; };

function toolNote(id: string, s: Section): string {
  return `${id}: per tool, medians over ${Math.max(...TOOLS.map((t) => s.runs[t].length))} run(s): ${TOOLS.map((t) => {
    const r = s.runs[t];
    if (!r.length) return `${LABEL[t]} failed`;
    return `${LABEL[t]} ${num(med(r.map((x) => x.wall)))} s wall, ${num(med(r.map((x) => x.cpu)))} s CPU (the tool and every process it waited for), peak RSS ${num(med(r.map((x) => x.treeRssKiB)) / MiB)} MiB summed over its process tree (${num(med(r.map((x) => x.treeRssKiB)) / MiB / s.n)} MiB per host; largest single process ${num(med(r.map((x) => x.maxRssKiB)) / MiB)} MiB)`;
  }).join('; ')}${s.errors.length ? `; failed runs (not counted): ${s.errors.join(' | ')}` : ''}.`;
}

/** MITOGEN_BENCH_FAN=skip leaves the section out (bench's own test sets it: the section takes minutes). */
export const FAN_SKIP_REASON = 'MITOGEN_BENCH_FAN=skip';

function skipIfNoTestbed(n: number): Measured | undefined {
  if (process.env.MITOGEN_BENCH_FAN === 'skip') { const none = marker('skipped', FAN_SKIP_REASON); return { mitogenTs: none, floor: none, mitogen: null }; }
  // `mitogen-ts exec` and lib/fan-child.mjs run the built library, as an installed package does.
  if (!existsSync(CLI)) { const none = marker('skipped', `${CLI} is not built (npm run build)`); return { mitogenTs: none, floor: none, mitogen: null }; }
  const tb = testbed(n);
  if (typeof tb !== 'string') return undefined;
  const none = marker('skipped', tb);
  return { mitogenTs: none, floor: none, mitogen: null };
}

function execFigure(n: number, delayMs: number): FigureDef {
  const where = delayMs ? `${2 * delayMs} ms round trip (a delay proxy per host)` : 'loopback';
  const id = `fan_${delayMs ? 'wan' : 'lan'}_${n}`;
  return {
    id,
    title: `fan-out: \`mitogen-ts exec --client ssh2 -- uname -r\` on ${n} hosts at ${where}, s (floor: parallel-ssh; reference: ansible ad-hoc)`,
    goal: '≤ 0.7x parallel-ssh and ≤ 0.2x ansible (the issue sets it at 100 hosts)',
    // Ansible alone takes 1.5-2 minutes on 100 hosts here: room for three repetitions of the four tools.
    seconds: n >= 100 ? 480 : 90,
    needs: ['floor'],
    met: (x) => x.vsFloor <= 0.7 && x.value / x.reference <= 0.2,
    async measure(env) {
      const skip = skipIfNoTestbed(n);
      if (skip) return skip;
      const s = await section(env, n, delayMs);
      const wall = (t: Tool): Side => side(s.runs[t], (r) => r.wall, 's', s.errors);
      return {
        mitogenTs: wall('ssh2'), floor: wall('pssh'), mitogen: null,
        reference: { label: 'ansible ad-hoc (`ansible all -f N -m command -a "uname -r"`)', side: wall('ansible') },
        notes: [toolNote(id, s)],
      };
    },
  };
}

export const fanExec: FigureDef[] = [execFigure(20, 0), execFigure(100, 0), execFigure(20, DELAY_MS), execFigure(100, DELAY_MS)];

interface ChildOut {
  error?: string;
  start: { rssKiB: number; hwmKiB: number };
  connected?: { rssKiB: number; hwmKiB: number };
  first?: { ok: number; failed: string[]; wall: number };
  second?: { ok: number; failed: string[]; wall: number; perHostMs: number[] };
  mark2?: [number, number];
  rtt?: { wall: number; perHostMs: number[] };
  commandMs?: number;
  run?: { ok: number; failed: string[]; wall: number };
}

async function child(fleet: Fleet, mode: 'keep' | 'tree' | 'flat', extra: Record<string, unknown> = {}): Promise<{ run: Run; out: ChildOut }> {
  const args = {
    mode, ...extra, timeout: 120, sshConfig: fleet.sshConfig, user: fleet.user, key: fleet.key, innerKnownHosts: fleet.testbedKnownHosts,
    hosts: fleet.hosts.map((h) => ({ alias: h.alias, addr: h.addr, name: h.name })),
  };
  const run = await runMeasured([process.execPath, CHILD, JSON.stringify(args)], { timeoutMs: 240_000 });
  let out: ChildOut;
  try { out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as ChildOut; } catch { throw new Error(`fan-child ${mode}: exit ${run.code}: ${run.stderr.trim().slice(-300)}`); }
  if (out.error) throw new Error(`fan-child ${mode}: ${out.error}`);
  for (const r of [out.first, out.second, out.run]) {
    if (r && (r.ok !== fleet.hosts.length || r.failed.length)) throw new Error(`fan-child ${mode}: ${r.ok}/${fleet.hosts.length} ok; ${r.failed.slice(0, 3).join(' | ')}`);
  }
  return { run, out };
}

/**
 * Exchanges in [from, to] on one link: an exchange starts with a chunk going
 * up after one came down (or the first). An upper bound on the round trips a
 * caller waited for (an ssh window adjustment going up counts as one too).
 */
function exchanges(chunks: Fleet['hosts'][number]['chunks'], from: number, to: number): number {
  let n = 0;
  let last: 'up' | 'down' | undefined;
  for (const c of chunks) {
    if (c.t < from || c.t > to) continue;
    if (c.dir === 'up' && last !== 'up') n++;
    last = c.dir;
  }
  return n;
}

export const fanSecond: FigureDef = {
  id: 'fan_second',
  title: `fan-out: a second \`uname -r\` on 100 hosts on the contexts a \`fanOut({ keep: true })\` kept, ${2 * DELAY_MS} ms round trip, ms (floor: one call round trip on the same contexts)`,
  goal: '≤ 2 round trips + the command\'s own time',
  seconds: 60,
  needs: ['floor'],
  met: (x) => x.value <= x.reference,
  async measure(env) {
    const skip = skipIfNoTestbed(100);
    if (skip) return skip;
    const fleet = await openFleet(100, DELAY_MS);
    const second: number[] = [];
    const rtt: number[] = [];
    const budget: number[] = [];
    const counts: number[] = [];
    const firsts: number[] = [];
    try {
      await repeat(env.reps(3, 1), env.deadline(), async () => {
        for (const h of fleet.hosts) h.chunks.length = 0;
        const { out } = await child(fleet, 'keep');
        second.push(out.second!.wall);
        firsts.push(out.first!.wall);
        const r = med(out.rtt!.perHostMs);
        rtt.push(r);
        budget.push(2 * r + out.commandMs!);
        const [from, to] = out.mark2!;
        counts.push(...fleet.hosts.map((h) => exchanges(h.chunks, from, to)));
      });
    } finally {
      await fleet.close();
    }
    const c = [...counts].sort((a, b) => a - b);
    return {
      mitogenTs: stat(second, 'ms'), floor: stat(rtt, 'ms'), mitogen: null,
      reference: { label: "2 round trips (the floor) + the command's own time (as many `uname -r` at once as hosts, run on this machine)", side: stat(budget, 'ms') },
      notes: [`fan_second: the whole second round (100 hosts at once, ssh2 client, each \`ctx.spawn('uname', ['-r'])\`, its lines read and its exit awaited, as \`exec\` does); the first round, connecting: ${firsts.map((x) => num(x / 1000)).join(', ')} s. Exchanges per host counted at its delay proxy during the second round (a chunk going up after one came down): median ${med(c)}, min ${c[0]}, max ${c[c.length - 1]}; the floor is the median per-host \`ctx.call(() => null)\` on the kept contexts, all 100 at once.`],
    };
  },
};

export const fanRss: FigureDef = {
  id: 'fan_rss',
  title: 'fan-out: the master\'s RSS per connected host, 100 hosts kept connected with the ssh2 client, loopback, MiB (floor: parallel-ssh\'s process tree per host)',
  goal: '≤ 2 MiB per connected host',
  seconds: 60,
  needs: [],
  met: (x) => x.value <= 2,
  async measure(env) {
    const skip = skipIfNoTestbed(100);
    if (skip) return skip;
    const fleet = await openFleet(100, 0);
    const growth: number[] = [];
    const whole: number[] = [];
    try {
      await repeat(env.reps(3, 1), env.deadline(), async () => {
        const { out } = await child(fleet, 'keep');
        // Peak over connecting and both rounds, less the master before it connected anything.
        growth.push((out.connected!.hwmKiB - out.start.rssKiB) / MiB / 100);
        whole.push(out.connected!.hwmKiB / MiB / 100);
      });
    } finally {
      await fleet.close();
    }
    const s = await section(env, 100, 0);
    const pssh = s.runs.pssh.map((r) => r.treeRssKiB / MiB / 100);
    const openssh = s.runs.openssh.map((r) => r.treeRssKiB / MiB / 100);
    return {
      mitogenTs: stat(growth, 'MiB'), floor: pssh.length ? stat(pssh, 'MiB') : marker('error', s.errors.join('; ') || 'parallel-ssh did not run'), mitogen: null,
      reference: { label: 'mitogen-ts exec --client openssh, its process tree (node and 100 ssh) per host', side: openssh.length ? stat(openssh, 'MiB') : marker('error', 'no run') },
      notes: [`fan_rss: (VmHWM once all 100 are connected − VmRSS before connecting) ÷ 100, in the master (lib/fan-child.mjs, kept contexts); the whole peak ÷ 100, the node process's own ~60 MiB included: ${whole.map(num).join(', ')} MiB. The floor is parallel-ssh's peak summed RSS (python and its 100 ssh) ÷ 100, from fan_lan_100's runs.`],
    };
  },
};

export const fanTree: FigureDef = {
  id: 'fan_tree',
  title: `fan-out: \`uname -r\` on 100 hosts as a two-level tree (master → 5 hosts at ${2 * DELAY_MS} ms → 19 more each through them with \`via\`), ssh2 client, s (floor: flat, the master → 100 at ${2 * DELAY_MS} ms)`,
  goal: '≤ flat (reported; the issue sets no goal)',
  seconds: 60,
  needs: ['floor'],
  met: (x) => x.vsFloor <= 1,
  async measure(env) {
    const skip = skipIfNoTestbed(100);
    if (skip) return skip;
    const fleet = await openFleet(100, DELAY_MS);
    const runs: Record<'tree' | 'flat', Run[]> = { tree: [], flat: [] };
    const walls: Record<'tree' | 'flat', number[]> = { tree: [], flat: [] };
    try {
      await repeat(env.reps(3, 1), env.deadline(), async () => {
        for (const mode of ['tree', 'flat'] as const) {
          const { run, out } = await child(fleet, mode, { gateways: 5 });
          runs[mode].push(run);
          walls[mode].push(out.run!.wall / 1000);
        }
      });
    } finally {
      await fleet.close();
    }
    const desc = (m: 'tree' | 'flat'): string => `${m}: ${num(med(runs[m].map((r) => r.wall)))} s process wall, ${num(med(runs[m].map((r) => r.cpu)))} s CPU, peak RSS ${num(med(runs[m].map((r) => r.maxRssKiB)) / MiB)} MiB (${num(med(runs[m].map((r) => r.maxRssKiB)) / MiB / 100)} MiB per host)`;
    return {
      mitogenTs: stat(walls.tree, 's'), floor: stat(walls.flat, 's'), mitogen: null,
      notes: [`fan_tree: fanOut's own time (connect + command, all 100 targets at once; an inner target awaits its gateway's context); the hops inside the tree are the testbed's bridge, not delayed. ${desc('tree')}; ${desc('flat')}.`],
    };
  },
};

export const FAN_FIGURES: FigureDef[] = [...fanExec, fanSecond, fanRss, fanTree];
