/**
 * ctx.exec: run a command in a context and collect its output. It is
 * ctx.spawn read to the end: the command runs there, so it works through any
 * chain of contexts and in every kind of context, and its output streams
 * back under flow control; the strings are built here.
 */
import type { ContextView } from '../runtime/context-view.js';
import { ExecError } from '../wire/errors.js';
import { spawn } from './spawn.js';

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Text written to the command's stdin, which is then closed. */
  input?: string;
  /** Reject with ExecError unless the command exits 0. */
  check?: boolean;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Every chunk of a stream, joined and decoded. */
async function text(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

export async function exec(ctx: ContextView, file: string, args: string[] | null, opts: ExecOptions = {}): Promise<ExecResult> {
  const { check, input, cwd, env } = opts;
  const p = spawn(ctx, file, args ?? undefined, { cwd, env, input: input ?? '', shell: args === null });
  const [stdout, stderr, status] = await Promise.all([text(p.stdout), text(p.stderr), p.exit]);
  const result: ExecResult = { ...status, stdout, stderr };
  if (check && result.code !== 0) {
    const command = args === null ? file : [file, ...args].join(' ');
    const status = result.signal ? `signal ${result.signal}` : `status ${result.code}`;
    const tail = result.stderr.split('\n').filter(Boolean).slice(-10).join('\n');
    throw new ExecError(`${command} exited with ${status} in ${ctx.name}${tail ? `: ${tail}` : ''}`);
  }
  return result;
}
