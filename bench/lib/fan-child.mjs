// The fan-out section's master process for what the command line does not do
// (a kept second round, a two-level tree), run by bench/figures/fanout-hosts.ts
// under /usr/bin/time so its CPU and RSS are its own. Plain JavaScript on the
// built library (dist/), as `mitogen-ts exec` is: no TypeScript loader in the
// measured process.
//
//   node fan-child.mjs '{"mode":"keep"|"tree"|"flat", "hosts":[{alias,addr}], "sshConfig", "user", "key", "innerKnownHosts", "timeout", "gateways"}'
//
// Prints one JSON line on stdout: the marks (epoch ms), the durations, the
// results checked, and the master's VmRSS/VmHWM at the marks.
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fanOut, Router } from '../../dist/src/index.js';

const args = JSON.parse(process.argv[2]);
const epochMs = () => performance.timeOrigin + performance.now();
const status = () => {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
};
const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();

/** What `mitogen-ts exec -- uname -r` does in each target: spawn, read its lines, wait for the exit. */
async function uname(ctx) {
  const p = ctx.spawn('uname', ['-r']);
  const out = [];
  await new Promise((res, rej) => p.lines('stdout').subscribe({ next: (l) => out.push(l), error: rej, complete: res }));
  const exit = await p.exit;
  if (exit.code !== 0) throw new Error(`uname exited ${exit.code}`);
  if (out.join('\n') !== release) throw new Error(`unexpected output ${JSON.stringify(out)}`);
  return out[0];
}

// connectTimeout: on this shared 2-core machine 100 bootstraps at once can take longer than the default 30 s.
const viaConfig = (h) => ({ hostname: h.alias, sshConfigFile: args.sshConfig, client: 'ssh2', connectTimeout: 120 });
const direct = (h, via) => ({
  via, hostname: h.addr, username: args.user, identityFile: args.key, client: 'ssh2', connectTimeout: 120,
  sshArgs: ['-o', `UserKnownHostsFile ${args.innerKnownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'],
});
const opts = { concurrency: args.hosts.length, timeout: args.timeout };
const summarise = (s) => ({ ok: s.ok.length, failed: s.failed.map((f) => `${f.target.alias ?? f.target.name ?? f.index}: ${f.error.constructor.name}: ${f.error.message}`), ms: s.ms });

const router = new Router();
const out = { mode: args.mode, start: status() };
try {
  if (args.mode === 'keep') {
    const t1 = performance.now();
    const first = await fanOut(router, args.hosts.map(viaConfig), uname, { ...opts, keep: true }).done;
    out.first = { ...summarise(first), wall: performance.now() - t1 };
    out.connected = status();
    const ctxs = first.ok.map((o) => o.context);
    // Second round on the kept contexts: targets are functions handing them over; kept again so no shutdown traffic lands in the window.
    out.mark2 = [epochMs()];
    const t2 = performance.now();
    const second = await fanOut(router, ctxs.map((c) => () => Promise.resolve(c)), uname, { ...opts, keep: true }).done;
    out.second = { ...summarise(second), wall: performance.now() - t2, perHostMs: second.ok.map((o) => o.ms) };
    out.mark2.push(epochMs());
    // One call round trip on each kept context: the link's own cost, the floor.
    const t3 = performance.now();
    const rtts = await Promise.all(ctxs.map(async (c) => { const t = performance.now(); await c.call(() => null); return performance.now() - t; }));
    out.rtt = { wall: performance.now() - t3, perHostMs: rtts };
    // The command's own time at this fan-out: as many `uname -r` at once as hosts, run here
    // (the hosts are this machine's namespaces, sharing its cores).
    const tc = performance.now();
    await Promise.all(ctxs.map(() => new Promise((res, rej) => execFile('uname', ['-r'], (e) => (e ? rej(e) : res())))));
    out.commandMs = performance.now() - tc;
  } else if (args.mode === 'tree' || args.mode === 'flat') {
    const gwCount = args.mode === 'tree' ? args.gateways : args.hosts.length;
    const gws = args.hosts.slice(0, gwCount);
    const rest = args.hosts.slice(gwCount);
    const gwCtx = new Map();
    const gwTarget = (h) => {
      const f = () => {
        if (!gwCtx.has(h.alias)) gwCtx.set(h.alias, router.ssh(viaConfig(h)));
        return gwCtx.get(h.alias);
      };
      Object.defineProperty(f, 'name', { value: h.alias });
      return f;
    };
    const targets = [
      ...gws.map(gwTarget),
      ...rest.map((h, i) => {
        const gw = gwTarget(gws[i % gws.length]);
        const f = async () => router.ssh(direct(h, await gw()));
        Object.defineProperty(f, 'name', { value: h.name });
        return f;
      }),
    ];
    const t = performance.now();
    // keep: a gateway's context must outlive its own target while its 19 are connecting through it.
    const s = await fanOut(router, targets, uname, { ...opts, keep: true }).done;
    out.run = { ...summarise(s), wall: performance.now() - t };
    out.connected = status();
  } else {
    throw new Error(`unknown mode ${args.mode}`);
  }
} catch (e) {
  out.error = `${e?.constructor?.name}: ${e?.message}`;
} finally {
  const t = performance.now();
  await Promise.race([router.shutdown(), new Promise((r) => setTimeout(r, 30_000))]);
  out.shutdownMs = performance.now() - t;
  out.end = status();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
