/**
 * What the command line does in each connected target: `exec` spawns the
 * command and streams its output, `run` calls the module's default export.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from '../runtime/context.js';
import { fnRef } from '../wire/call.js';

/** The target ran the command, which failed (exit status 1), where a target that could not be reached is 2. */
export class CommandFailed extends Error {
  constructor(message: string, readonly exitCode: number | null, readonly signal: string | null, readonly output: Captured) {
    super(message);
    this.name = 'CommandFailed';
  }
}

/** With --json the output is kept whole (exactly, not as lines) for the host's object. */
export interface Captured { stdout?: string; stderr?: string }
export interface ExecResult extends Captured { exitCode: number; signal: null }

export type LineSink = (stream: 'stdout' | 'stderr', text: string) => void;

function pump(p: ReturnType<Context['spawn']>, s: 'stdout' | 'stderr', sink: LineSink | undefined, captured: Captured): Promise<void> {
  return new Promise<void>((res, rej) => {
    if (sink) {
      p.lines(s).subscribe({ next: (l) => sink(s, l), error: rej, complete: res });
      return;
    }
    const decoder = new TextDecoder();
    let text = '';
    p[s].subscribe({
      next: (chunk) => { text += decoder.decode(chunk, { stream: true }); },
      error: rej,
      complete: () => { captured[s] = text + decoder.decode(); res(); },
    });
  });
}

/** Runs COMMAND (through /bin/sh when it is one word) and resolves once it exited 0; rejects with CommandFailed otherwise. */
export async function execIn(ctx: Context, argv: readonly string[], sink: LineSink | undefined): Promise<ExecResult> {
  const p = ctx.spawn(argv[0]!, argv.length > 1 ? argv.slice(1) : undefined);
  const captured: Captured = {};
  await Promise.all([pump(p, 'stdout', sink, captured), pump(p, 'stderr', sink, captured)]);
  const exit = await p.exit;
  if (exit.code !== 0) throw new CommandFailed(exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`, exit.code, exit.signal, captured);
  return { exitCode: 0, signal: null, ...captured };
}

/** Calls MODULE's default export with ARGS there (the module and its imports forwarded). */
export function runIn(ctx: Context, module: string, args: readonly string[]): Promise<unknown> {
  return ctx.call(fnRef(pathToFileURL(resolve(module)).href, 'default'), ...args);
}
