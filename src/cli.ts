#!/usr/bin/env node
/**
 * The `mitogen-ts` command line: fanOut() from a shell.
 *
 *   mitogen-ts exec [TARGETS] [OPTIONS] -- COMMAND...
 *   mitogen-ts run  [TARGETS] [OPTIONS] -- MODULE.ts [ARGS...]
 *
 * TARGETS are ssh hosts or ~/.ssh/config aliases (also -H "a b", --hosts FILE).
 * `exec` prints each host's output live, line by line, prefixed with the
 * host; `run` calls the module's default export in every target (the module
 * and its imports forwarded) and prints its result as JSON. Progress and the
 * summary go to stderr; the status is 0 only when every target succeeded.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fanOut, fnRef, Router } from './index.js';
import type { Context, FanOutEvent } from './index.js';
import type { SshOptions } from '../transports/ssh.js';

const USAGE = `usage: mitogen-ts exec [TARGETS] [OPTIONS] -- COMMAND...
       mitogen-ts run  [TARGETS] [OPTIONS] -- MODULE [ARGS...]
targets:  HOST... | -H HOST[,HOST...] | --hosts-file FILE (one per line, # comments)
options:  -l USER  -p PORT  -i IDENTITY  -o SSH_OPTION  -F SSH_CONFIG  --client ssh2|openssh
          --parallel N (32)  -t, --timeout SECONDS  --retries N (0)  --json  -q, --quiet
status:   0 all succeeded, 1 a command failed, 2 a target could not be reached (or a usage error)`;

export interface CliArgs {
  command: 'exec' | 'run';
  hosts: string[];
  ssh: Partial<SshOptions>;
  concurrency?: number;
  timeout?: number;
  retries?: number;
  json: boolean;
  quiet: boolean;
  rest: string[];
}

export class UsageError extends Error {}

/** The target was reached and ran the command, which failed: status 1, where an unreachable target is 2. */
class CommandFailed extends Error {}

function number(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, not ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return n;
}

/** Reads the command line (without node and the script). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...args] = argv;
  if (command !== 'exec' && command !== 'run') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  const out: CliArgs = { command, hosts: [], ssh: {}, json: false, quiet: false, rest: [] };
  const sshArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--') { out.rest = args.slice(i + 1); break; }
    else if (a === '-H') out.hosts.push(...value().split(/[\s,]+/).filter(Boolean));
    else if (a === '--hosts-file') out.hosts.push(...readFileSync(value(), 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean));
    else if (a === '-l') out.ssh.username = value();
    else if (a === '-p') out.ssh.port = number(a, value());
    else if (a === '-i') out.ssh.identityFile = value();
    else if (a === '-o') sshArgs.push('-o', value());
    else if (a === '-F') out.ssh.sshConfigFile = value();
    else if (a === '--client') {
      const c = value();
      if (c !== 'ssh2' && c !== 'openssh') throw new UsageError(`--client is ssh2 or openssh, not ${JSON.stringify(c)}`);
      out.ssh.client = c;
    } else if (a === '--parallel' || a === '-c' || a === '--concurrency') out.concurrency = number(a, value());
    else if (a === '-t' || a === '--timeout') out.timeout = number(a, value());
    else if (a === '--retries') out.retries = number(a, value());
    else if (a === '--json') out.json = true;
    else if (a === '-q' || a === '--quiet') out.quiet = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else out.hosts.push(a);
  }
  if (sshArgs.length) out.ssh.sshArgs = sshArgs;
  if (!out.hosts.length) throw new UsageError('no targets given');
  if (!out.rest.length) throw new UsageError(command === 'exec' ? 'no command given after --' : 'no module given after --');
  return out;
}

/** Runs the command; resolves with the exit status. */
export async function main(argv: readonly string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err.write(`mitogen-ts: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const router = new Router();
  try {
    const targets = args.hosts.map((hostname) => ({ ...args.ssh, hostname }));
    const width = Math.max(...args.hosts.map((h) => h.length));
    const line = (host: string, stream: 'stdout' | 'stderr', text: string): void => {
      if (args.json) io.out.write(`${JSON.stringify({ host, [stream]: text })}\n`);
      else (stream === 'stdout' ? io.out : io.err).write(`${host.padEnd(width)} | ${text}\n`);
    };
    const work = args.command === 'exec'
      ? async (ctx: Context, target: { hostname: string }): Promise<number> => {
        const p = ctx.spawn(args.rest[0]!, args.rest.length > 1 ? args.rest.slice(1) : undefined);
        const pump = (s: 'stdout' | 'stderr') => new Promise<void>((res, rej) => p.lines(s).subscribe({ next: (l) => line(target.hostname, s, l), error: rej, complete: res }));
        await Promise.all([pump('stdout'), pump('stderr')]);
        const exit = await p.exit;
        if (exit.code !== 0) throw new CommandFailed(exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`);
        return 0;
      }
      : async (ctx: Context, target: { hostname: string }): Promise<unknown> => {
        const result = await ctx.call(fnRef(pathToFileURL(resolve(args.rest[0]!)).href, 'default'), ...args.rest.slice(1));
        if (args.json) io.out.write(`${JSON.stringify({ host: target.hostname, result })}\n`);
        else io.out.write(`${target.hostname.padEnd(width)} | ${JSON.stringify(result)}\n`);
        return result;
      };
    const run = fanOut(router, targets, work, { concurrency: args.concurrency, timeout: args.timeout, retries: args.retries });
    let finished = 0;
    run.events.subscribe((e: FanOutEvent<{ hostname: string }, unknown>) => {
      if (args.quiet || (e.type !== 'done' && e.type !== 'failed')) return;
      finished++;
      const what = e.type === 'done' ? 'ok' : `FAILED: ${e.error.message}`;
      io.err.write(`[${finished}/${targets.length}] ${e.target.hostname} ${what} (${(e.ms / 1000).toFixed(2)} s)\n`);
    });
    const summary = await run.done;
    io.err.write(`${summary.ok.length} ok, ${summary.failed.length} failed, ${(summary.ms / 1000).toFixed(2)} s${summary.failed.length ? `: ${summary.failed.map((f) => f.target.hostname).join(' ')}` : ''}\n`);
    if (summary.failed.some((f) => !(f.error instanceof CommandFailed))) return 2;
    return summary.failed.length ? 1 : 0;
  } finally {
    await router.shutdown();
  }
}

// Run as a program (also through npm's bin symlink), not when imported.
const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invoked) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
    process.stderr.write(`mitogen-ts: ${e.message}\n`);
    process.exitCode = 2;
  });
}
