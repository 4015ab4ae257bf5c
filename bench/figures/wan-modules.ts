/**
 * The WAN section: the same work over a link with a 20 ms round trip. The
 * kernel here has no netem, so a userspace TCP proxy on loopback
 * (bench/lib/delay-proxy.ts, 10 ms each way, order kept) stands in front of
 * test host h1's sshd. Targets log in as root so their node can run in a
 * private mount namespace where node_modules and the generated module trees
 * are empty: everything they import must be forwarded.
 *
 * Each import figure times the first call that imports, in a fresh context,
 * with the in-process ssh2 client (the reference column: the OpenSSH
 * client); its floor is the link's round trip measured in the same context,
 * so the ratio to the floor is the call's cost in round trips. The GET_MODULE
 * requests the master served are counted and put in the notes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Context, Router } from '../../src/index.js';
import { start as startProxy } from '../lib/delay-proxy.js';
import type { FigureDef, Measured } from '../lib/figure.js';
import { marker, repeat, stat, within } from '../lib/measure.js';
import type { Side } from '../lib/measure.js';

const HOSTS = '/var/tmp/mitogen-testbed/ssh/hosts.json';
/** Each way: a 20 ms round trip. */
const DELAY_MS = 10;
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

interface Link { port: number; key: string; close(): Promise<void> }

function testbed(): { key: string; addr: string } | string {
  if (!existsSync(HOSTS)) return `the ssh test hosts are not up (${HOSTS}); npm test as root brings them up`;
  const tb = JSON.parse(readFileSync(HOSTS, 'utf8')) as { key: string; hosts: { name: string; addr: string }[] };
  const addr = tb.hosts.find((h) => h.name === 'h1')?.addr;
  return addr ? { key: tb.key, addr } : `no host h1 in ${HOSTS}`;
}

async function openLink(addr: string, key: string): Promise<Link> {
  const p = await startProxy({ target: { host: addr, port: 22 }, delayMs: DELAY_MS });
  return { port: p.port, key, close: () => p.close() };
}

/** node in a mount namespace where each of `hidden` is an empty tmpfs. */
function hidingNode(hidden: string[]): string[] {
  const mounts = hidden.map((d) => `mount -t tmpfs none '${d}'`).join(' && ');
  return ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && exec node "$@"`, 'sh'];
}

const SSH_ARGS = ['-o', 'UserKnownHostsFile /dev/null', '-o', 'GlobalKnownHostsFile /dev/null', '-o', 'LogLevel ERROR'];

function connect(router: Router, link: Link, client: 'openssh' | 'ssh2', nodePath?: string[]): Promise<Context> {
  return within(router.ssh({
    hostname: '127.0.0.1', port: link.port, username: 'root', identityFile: link.key,
    checkHostKeys: 'ignore', sshArgs: SSH_ARGS, client, ...(nodePath ? { nodePath } : {}),
  }), 60_000, `ssh through the delay proxy (${client})`);
}

const requests = async (router: Router): Promise<number> => (await router.broker.control((api) => api.stats())).moduleRequests;

/** A generated tree of `n` modules, each importing (or requiring) the next. */
function chainTree(kind: 'ts' | 'cjs', n: number): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), `mt-wan-${kind}-`));
  if (kind === 'ts') writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const text = kind === 'ts'
      ? (last ? 'export const value: number = 1;\n' : `import { value as next } from './m${i + 1}.js';\nexport const value: number = next + 1;\n`)
      : (last ? 'exports.value = 1;\n' : `exports.value = require('./m${i + 1}.cjs').value + 1;\n`);
    writeFileSync(join(dir, `m${i}.${kind}`), text);
  }
  return { dir, entry: join(dir, `m0.${kind}`) };
}

interface ImportCase {
  id: string;
  what: string;
  goalMs: number;
  /** The first call, as the user would write it; `arg` is a path the case generated. */
  call(ctx: Context, arg: string): Promise<unknown>;
  tree?: 'ts' | 'cjs';
}

const CASES: ImportCase[] = [
  { id: 'wan_rxjs', what: "`await import('rxjs')` (about 250 ESM files)", goalMs: 500,
    call: (ctx) => ctx.call(async () => Object.keys(await import('rxjs')).length) },
  { id: 'wan_msgpack', what: "`await import('@msgpack/msgpack')` (17 files)", goalMs: 150,
    call: (ctx) => ctx.call(async () => Object.keys(await import('@msgpack/msgpack')).length) },
  { id: 'wan_ssh2', what: "`require('ssh2')` in the child's main thread", goalMs: 300,
    call: (ctx) => ctx.call(() => typeof (require('ssh2') as { Client: unknown }).Client) },
  { id: 'wan_chain_ts', what: 'a chain of 40 `.ts` modules, each importing the next', goalMs: 200, tree: 'ts',
    call: (ctx, entry) => ctx.call(async (u: string) => (await import(u)).value as number, pathToFileURL(entry).href) },
  { id: 'wan_chain_cjs', what: 'a chain of 40 CommonJS modules, each requiring the next', goalMs: 200, tree: 'cjs',
    call: (ctx, entry) => ctx.call((p: string) => (require(p) as { value: number }).value, entry) },
];

function importFigure(c: ImportCase): FigureDef {
  return {
    id: c.id,
    title: `WAN, 20 ms round trip (ssh2 client): first call doing ${c.what}, into a target without the files`,
    goal: `≤ ${c.goalMs} ms, and ≤ 4 round trips + the bytes at link speed`,
    seconds: 60,
    needs: [],
    met: (x) => x.value <= c.goalMs,
    async measure(env): Promise<Measured> {
      const tb = testbed();
      if (typeof tb === 'string') { const none = marker('skipped', tb); return { mitogenTs: none, floor: none, mitogen: none }; }
      const link = await openLink(tb.addr, tb.key);
      const tree = c.tree ? chainTree(c.tree, 40) : undefined;
      try {
        const nodePath = hidingNode([NODE_MODULES, ...(tree ? [tree.dir] : [])]);
        const reps = env.reps(5, 1);
        const sides: Record<'ssh2' | 'openssh', number[]> = { ssh2: [], openssh: [] };
        const rtts: number[] = [];
        const asked: number[] = [];
        await repeat(reps, env.deadline(), async () => {
          for (const client of ['ssh2', 'openssh'] as const) {
            const router = env.router();
            const ctx = await connect(router, link, client, nodePath);
            // The connect resolves once the child has read its runtime, so the first call also waits
            // for the rest of its start: the floor is the second, a round trip and nothing else.
            await within(ctx.call(() => null), 30_000, 'first call');
            const t0 = performance.now();
            await within(ctx.call(() => null), 30_000, 'round trip');
            rtts.push(performance.now() - t0);
            const before = await requests(router);
            const t = performance.now();
            await within(c.call(ctx, tree?.entry ?? ''), 120_000, c.id);
            sides[client].push(performance.now() - t);
            if (client === 'ssh2') asked.push((await requests(router)) - before);
            await router.shutdown();
          }
        });
        const mitogen: Side = c.id === 'wan_rxjs'
          ? await env.mitogen({ reps, ssh: mitogenSsh(link), python_path: ['/usr/bin/python3', '-S'] })
          : null; // Mitogen's import row (pygments) is wan_rxjs's
        return {
          mitogenTs: stat(sides.ssh2, 'ms'), floor: stat(rtts, 'ms'), mitogen,
          reference: { label: 'mitogen-ts with the OpenSSH client', side: stat(sides.openssh, 'ms') },
          notes: [`${c.id}: the floor is one call round trip over the same link (so vs floor = round trips); GET_MODULE requests the master served: ${asked.join(', ')}${c.id === 'wan_rxjs' ? '; Mitogen: first call importing pygments (highlight with the Python lexer and HTML formatter) into python3 -S through the same proxy' : ''}.`],
        };
      } finally {
        await link.close();
        if (tree) rmSync(tree.dir, { recursive: true, force: true });
      }
    },
  };
}

function mitogenSsh(link: Link): Record<string, unknown> {
  return { hostname: '127.0.0.1', port: link.port, username: 'root', identity_file: link.key, check_host_keys: 'ignore', ssh_args: SSH_ARGS };
}

export const wanBoot: FigureDef = {
  id: 'wan_boot',
  title: 'WAN, 20 ms round trip (ssh2 client): bootstrap + first call',
  goal: '≤ `ssh host true` + 150 ms',
  seconds: 60,
  needs: ['floor'],
  met: (x) => x.value <= x.value / x.vsFloor + 150,
  async measure(env): Promise<Measured> {
    const tb = testbed();
    if (typeof tb === 'string') { const none = marker('skipped', tb); return { mitogenTs: none, floor: none, mitogen: none }; }
    const link = await openLink(tb.addr, tb.key);
    try {
      const reps = env.reps(5, 1);
      const sides: Record<'ssh2' | 'openssh', number[]> = { ssh2: [], openssh: [] };
      const floor: number[] = [];
      const run = promisify(execFile);
      await repeat(reps, env.deadline(), async () => {
        for (const client of ['ssh2', 'openssh'] as const) {
          const router = env.router();
          const t = performance.now();
          const ctx = await connect(router, link, client);
          await within(ctx.call(() => null), 30_000, 'first call');
          sides[client].push(performance.now() - t);
          await router.shutdown();
        }
        const t = performance.now();
        await run('ssh', ['-o', 'BatchMode yes', '-i', link.key, ...SSH_ARGS, '-o', 'StrictHostKeyChecking no', '-p', String(link.port), 'root@127.0.0.1', 'true'], { timeout: 60_000 });
        floor.push(performance.now() - t);
      });
      return {
        mitogenTs: stat(sides.ssh2, 'ms'), floor: stat(floor, 'ms'),
        mitogen: await env.mitogen({ reps, ssh: mitogenSsh(link) }),
        reference: { label: 'mitogen-ts with the OpenSSH client', side: stat(sides.openssh, 'ms') },
        notes: ['wan_boot: the floor is `ssh -p PROXY root@127.0.0.1 true` through the same delay proxy; Mitogen runs its OpenSSH client through it too.'],
      };
    } finally {
      await link.close();
    }
  },
};

export const wanImports: FigureDef[] = CASES.map(importFigure);
