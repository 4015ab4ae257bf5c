/**
 * The fan-out section's fleet: the testbed's h1..hN reached directly (loopback:
 * the hosts are sshd in network namespaces on this machine) or each through its
 * own delay proxy (a 20 ms round trip), described once as an ssh_config file,
 * a host list and an Ansible inventory so that every tool — mitogen-ts (both
 * clients), parallel-ssh and ansible — logs in to the same hosts through the
 * same links with the same key and the same host key checks.
 *
 * runMeasured() spawns one tool under /usr/bin/time (wall, user+sys CPU of the
 * tool and every child it waited for, the largest process's peak RSS) while
 * sampling the summed RSS of its whole process tree, so a tool that starts one
 * ssh per host is charged for them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start as startProxy } from './delay-proxy.js';
import type { DelayProxy } from './delay-proxy.js';

const STATE = '/var/tmp/mitogen-testbed/ssh';
const HOSTS = `${STATE}/hosts.json`;
/**
 * The testbed's key user (test/testbed.ts asUser1). Not root: root's .bashrc here runs
 * `pyenv init`, whose shims rehash races between 100 logins at once sharing /root, and
 * its "rm: cannot remove …: No such file or directory" on stderr reads as node missing.
 */
const USER = 'mitouser1';
const USER_KEY = '/home/mitouser1/.ssh/id_mitotest';

export interface FleetHost {
  /** Testbed name (h1..h100). */
  name: string;
  /** The alias in the generated ssh_config (f1..fN). */
  alias: string;
  /** The host's own address (the sshd in its netns). */
  addr: string;
  /** Where the master reaches it: the address, or 127.0.0.1 and the proxy's port. */
  connectHost: string;
  connectPort: number;
  proxy?: DelayProxy;
  /** Chunks through its proxy, with the time seen (epoch ms, performance.timeOrigin-based). */
  chunks: { dir: 'up' | 'down'; t: number }[];
}

export interface Fleet {
  dir: string;
  /** The user every tool logs in as, and its key. */
  user: string;
  key: string;
  /** The fleet's known_hosts (with the proxies' forms); testbedKnownHosts: the hosts' own, readable on them. */
  knownHosts: string;
  testbedKnownHosts: string;
  sshConfig: string;
  hostsFile: string;
  inventory: string;
  hosts: FleetHost[];
  delayMs: number;
  close(): Promise<void>;
}

interface Testbed { key: string; knownHosts: string; hosts: { name: string; addr: string }[] }

/** The testbed, or why it cannot be used. */
export function testbed(n: number): Testbed | string {
  if (!existsSync(HOSTS)) return `the ssh test hosts are not up (${HOSTS}); npm test as root brings them up`;
  const tb = JSON.parse(readFileSync(HOSTS, 'utf8')) as Testbed;
  const missing = Array.from({ length: n }, (_, i) => `h${i + 1}`).filter((name) => !tb.hosts.some((h) => h.name === name));
  if (missing.length) return `the testbed lacks ${missing.length} of h1..h${n} (e.g. ${missing[0]})`;
  return tb;
}

export const epochMs = (): number => performance.timeOrigin + performance.now();

/** h1..hN, behind one delay proxy each when delayMs > 0 (each way). */
export async function openFleet(n: number, delayMs: number): Promise<Fleet> {
  const tb = testbed(n);
  if (typeof tb === 'string') throw new Error(tb);
  const dir = mkdtempSync(join(tmpdir(), 'mt-fleet-'));
  const hosts: FleetHost[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const addr = tb.hosts.find((h) => h.name === `h${i}`)!.addr;
      const chunks: FleetHost['chunks'] = [];
      const proxy = delayMs > 0
        ? await startProxy({ target: { host: addr, port: 22 }, delayMs, tap: (d) => { if (chunks.length < 100_000) chunks.push({ dir: d, t: epochMs() }); } })
        : undefined;
      hosts.push({ name: `h${i}`, alias: `f${i}`, addr, connectHost: proxy ? '127.0.0.1' : addr, connectPort: proxy?.port ?? 22, proxy, chunks });
    }
  } catch (e) {
    await Promise.allSettled(hosts.map((h) => h.proxy?.close()));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // HostKeyAlias: through a proxy the host is still checked against its own key. OpenSSH looks the
  // alias up as it is; the ssh2 client looks up "[alias]:port" (actors/ssh2/ssh2-session.ts, hostKeyName),
  // so the fleet's known_hosts has both forms.
  const knownHosts = join(dir, 'known_hosts');
  const lines = readFileSync(tb.knownHosts, 'utf8').split('\n').filter(Boolean);
  writeFileSync(knownHosts, `${hosts.flatMap((h) => lines.filter((l) => l.startsWith(`${h.addr} `))
    .flatMap((l) => (h.proxy ? [l, l.replace(h.addr, `[${h.addr}]:${h.connectPort}`)] : [l]))).join('\n')}\n`);
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(sshConfig, hosts.map((h) => [
    `Host ${h.alias}`, `  HostName ${h.connectHost}`, `  Port ${h.connectPort}`, `  HostKeyAlias ${h.addr}`,
    `  User ${USER}`, `  IdentityFile ${USER_KEY}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null', '  StrictHostKeyChecking yes', '  BatchMode yes', '  LogLevel ERROR', '',
  ].join('\n')).join(''));
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, `${hosts.map((h) => h.alias).join('\n')}\n`);
  const inventory = join(dir, 'inventory.ini');
  writeFileSync(inventory, `[all]\n${hosts.map((h) => h.alias).join('\n')}\n[all:vars]\nansible_python_interpreter=/usr/bin/python3\n`);
  return {
    dir, user: USER, key: USER_KEY, knownHosts, testbedKnownHosts: tb.knownHosts, sshConfig, hostsFile, inventory, hosts, delayMs,
    close: async () => {
      await Promise.allSettled(hosts.map((h) => h.proxy?.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Seconds, spawn to exit, as this process saw it. */
  wall: number;
  /** User + system CPU seconds of the tool and every process it waited for. */
  cpu: number;
  /** Peak RSS of the largest single process of the tree (getrusage's maxrss), KiB. */
  maxRssKiB: number;
  /** Peak of the summed RSS of the whole tree (sampled every 100 ms), KiB. */
  treeRssKiB: number;
}

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tasks) {
    try { out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number)); } catch { /* gone */ }
  }
  return out;
}

function rssKiB(pid: number): number {
  try { return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; }
}

/** The summed RSS of pid's descendants (not pid itself: that is /usr/bin/time). */
function treeRss(root: number): number {
  let sum = 0;
  const todo = children(root);
  for (let guard = 0; todo.length && guard < 10_000; guard++) {
    const p = todo.pop()!;
    sum += rssKiB(p);
    todo.push(...children(p));
  }
  return sum;
}

/** Runs argv under /usr/bin/time; killed (SIGKILL, the whole group) after timeoutMs. */
export function runMeasured(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs: number; cwd?: string }): Promise<Run> {
  const timeFile = join(mkdtempSync(join(tmpdir(), 'mt-time-')), 'time');
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv], {
      env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { if (stdout.length < 4 << 20) stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 4 << 20) stderr += s; });
    let peak = 0;
    const sample = (): void => { if (child.pid) peak = Math.max(peak, treeRss(child.pid)); };
    const sampler = setInterval(sample, 100);
    const killer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, opts.timeoutMs);
    child.on('close', (code) => {
      const wall = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      clearTimeout(killer);
      let cpu = Number.NaN;
      let maxRssKiB = Number.NaN;
      try {
        // time's last line is its figures (a line before it says so when the command failed).
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        cpu = last[0]! + last[1]!;
        maxRssKiB = last[2]!;
      } catch { /* killed before time wrote */ }
      rmSync(join(timeFile, '..'), { recursive: true, force: true });
      resolve({ code, stdout, stderr, wall, cpu, maxRssKiB, treeRssKiB: Math.max(peak, maxRssKiB || 0), });
    });
  });
}

/** Lines of `uname -r` output each tool printed, checked against the master's own kernel (the hosts share it). */
export function unameLines(stdout: string): number {
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  return stdout.split('\n').filter((l) => l.trim().endsWith(release)).length;
}
