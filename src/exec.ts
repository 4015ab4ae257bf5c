/**
 * ctx.exec: run a command in a context and collect its output. The command
 * runs there (child_process.spawn inside the context), so it works through
 * any chain of contexts and in every kind of context; output is collected
 * there and returned as strings in one reply.
 */
import type { Context } from './context.js';
import { ExecError } from './errors.js';

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

/** Runs inside the target: self-contained (it travels by source). */
async function runThere(file: string, args: string[] | null, opts: { cwd?: string; env?: Record<string, string>; input?: string }): Promise<ExecResult> {
  const { spawn } = await import('node:child_process');
  return await new Promise<ExecResult>((resolve, reject) => {
    const shell = args === null;
    const child = spawn(shell ? '/bin/sh' : file, shell ? ['-c', file] : args, {
      cwd: opts.cwd, env: opts.env ? { ...process.env, ...opts.env } : process.env, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    child.on('error', (e) => reject(e));
    child.on('close', (code, signal) => resolve({
      code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
    }));
    child.stdin.end(opts.input ?? '');
  });
}

export async function exec(ctx: Context, file: string, args: string[] | null, opts: ExecOptions = {}): Promise<ExecResult> {
  const { check, ...rest } = opts;
  const result = await ctx.call(runThere, file, args, rest);
  if (check && result.code !== 0) {
    const command = args === null ? file : [file, ...args].join(' ');
    const status = result.signal ? `signal ${result.signal}` : `status ${result.code}`;
    const tail = result.stderr.split('\n').filter(Boolean).slice(-10).join('\n');
    throw new ExecError(`${command} exited with ${status} in ${ctx.name}${tail ? `: ${tail}` : ''}`);
  }
  return result;
}
