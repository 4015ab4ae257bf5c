#!/usr/bin/env node
/**
 * The `mitogen-ts` command line: fanOut() from a shell.
 *
 *   mitogen-ts exec [TARGETS] [OPTIONS] -- COMMAND...
 *   mitogen-ts run  [TARGETS] [OPTIONS] -- MODULE.ts [ARGS...]
 *
 * The pieces: cli-args.ts reads the command line, cli-target.ts the target
 * syntax, cli-connect.ts turns targets into connect functions (ssh, via,
 * become), cli-work.ts is what runs in each target, cli-result.ts what came
 * of it and cli-output.ts what is printed. The status is 0 when every target succeeded, 1 when a command
 * failed, 2 when a target could not be reached.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
// The package's entry, not its parts: importing it sets the master up (the broker, the runtime payload).
import { fanOut, Router } from './index.js';
import type { Context } from './index.js';
import { parseArgs, UsageError, USAGE } from './cli/cli-args.js';
import type { CliArgs } from './cli/cli-args.js';
import { connectors } from './cli/cli-connect.js';
import type { Connect } from './cli/cli-connect.js';
import { Output } from './cli/cli-output.js';
import type { HostResult, Out } from './cli/cli-output.js';
import { becomePassword } from './cli/cli-password.js';
import { exitStatus, failed, failedFile, succeeded } from './cli/cli-result.js';
import type { Outcome } from './cli/cli-result.js';
import { execIn, runIn } from './cli/cli-work.js';

export { parseArgs, UsageError } from './cli/cli-args.js';
export type { CliArgs } from './cli/cli-args.js';

export interface CliIo { out: Out; err: Out & { isTTY?: boolean } }

async function fan(args: CliArgs, io: CliIo): Promise<number> {
  const password = args.become ? await becomePassword(args.askBecomePass) : undefined;
  const router = new Router();
  // ^C gives up the targets under way (CancelledError) and still prints the summary and writes --failed-file,
  // so the rest can be rerun; a second ^C is node's default, at once.
  const interrupted = new AbortController();
  const onInterrupt = (): void => interrupted.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const targets = connectors(router, args, password);
    const output = new Output(io, targets.map((t) => t.target.text), { json: args.json, group: args.group, quiet: args.quiet, tty: io.err.isTTY === true });
    const work = async (ctx: Context, c: Connect): Promise<Outcome> => {
      const host = c.target.text;
      try {
        if (args.command === 'exec') return { kind: 'exec', exec: await execIn(ctx, args.rest, args.json ? undefined : (s, l) => output.line(host, s, l)) };
        const result = await runIn(ctx, args.rest[0]!, args.rest.slice(1));
        if (!args.json) output.line(host, 'stdout', JSON.stringify(result) ?? 'undefined');
        return { kind: 'run', result };
      } finally {
        for (const b of c.below) void b.shutdown().catch(() => {});
      }
    };
    const run = fanOut(router, targets, work, { concurrency: args.concurrency, timeout: args.timeout, retries: args.retries, signal: interrupted.signal });
    const connected = new Set<number>();
    // By target index: the table and --failed-file are in target order, whatever order hosts finish in.
    const results: HostResult[] = new Array(targets.length);
    run.events.subscribe((e) => {
      if (e.type === 'connected') connected.add(e.index);
      if (e.type !== 'done' && e.type !== 'failed') return;
      const host = e.target.target.text;
      const r = e.type === 'done' ? succeeded(host, e.ms, e.result, args.json) : failed(host, e.ms, e.error, connected.has(e.index), args.json);
      results[e.index] = r;
      output.finished(r);
    });
    const summary = await run.done;
    output.close(results, summary.ms);
    if (args.failedFile !== undefined) writeFileSync(args.failedFile, failedFile(args.targets, results));
    return exitStatus(results);
  } finally {
    process.off('SIGINT', onInterrupt);
    await router.shutdown();
  }
}

/** Runs the command; resolves with the exit status. */
export async function main(argv: readonly string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  try {
    return await fan(parseArgs(argv), io);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err.write(`mitogen-ts: ${e.message}\n${USAGE}\n`);
    return 2;
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
