/**
 * mitogen-ts/fakessh: run ssh-speaking tools (rsync, scp, sftp, git) through
 * any context, as Mitogen's mitogen.fakessh does.
 *
 * `run(context, argv)` starts the program here with a temporary directory
 * first on its PATH. That directory holds an `ssh` script (fakessh-client.ts)
 * which connects back to a unix socket we listen on beside it; for each such
 * connection the remote command is started in `context` with `sh -c` (the
 * kit's runCommand) and its stdin, stdout and stderr are relayed under
 * credit-based flow control, through any number of hops. The fake ssh exits
 * with the remote command's status. The directory goes when the program ends.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { functionSource } from './wire/call.js';
import type { Context } from './runtime/context.js';
import { StreamError } from './wire/errors.js';
import { fakesshClient, FRAME_EXIT, FRAME_STDERR, FRAME_STDOUT } from './features/fakessh-client.js';
import type { CreditWindow } from './features/flow-credit.js';
import { localKit, remoteOp } from './features/kit-remote.js';
import { parseSshArgs } from './ssh/ssh-args.js';
import type { ExitStatus, Inlet, Outlet, TransferKit } from './features/transfer-kit.js';

export interface FakesshOptions {
  /** The program's working directory (default: this process's). */
  cwd?: string;
  /** The program's environment (default: this process's); PATH gets the fake ssh's directory in front. */
  env?: NodeJS.ProcessEnv;
  /** Bytes for the program's stdin (default: none, /dev/null). */
  input?: string | Uint8Array;
}

export interface FakesshResult {
  /** The program's exit status, or null if a signal ended it. */
  code: number | null;
  signal: string | null;
  /** What the program wrote on stdout and stderr. */
  stdout: string;
  stderr: string;
}

/** Bytes each stream may have in flight between the contexts: 4 MiB to start, growing while the link is the limit (flow-credit.ts). */
const WINDOW: CreditWindow = { bytes: 4 * 1024 * 1024, messages: 0, maxBytes: 64 * 1024 * 1024 };

/**
 * Runs `argv` here with an `ssh` on its PATH that reaches `context` (the host
 * name given to ssh is ignored). scp and sftp run ssh by absolute path, so for
 * them `-S <fake ssh>` is put in front of their arguments.
 */
export async function run(context: Context, argv: string[], opts: FakesshOptions = {}): Promise<FakesshResult> {
  if (!argv.length) throw new TypeError('fakessh.run needs a program to run');
  const dir = await mkdtemp(join(tmpdir(), 'mitogen-ts-fakessh-'));
  const sessions = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  try {
    const ssh = join(dir, 'ssh');
    const sockPath = join(dir, 'sock');
    await writeFile(join(dir, 'ssh.cjs'), `'use strict';\nconst __name = (f) => f;\n(${functionSource(fakesshClient)})(${JSON.stringify(sockPath)}, process.argv.slice(2));\n`);
    await writeFile(ssh, `#!/bin/sh\nunset NODE_OPTIONS\nexec ${shellQuote(process.execPath)} ${shellQuote(join(dir, 'ssh.cjs'))} "$@"\n`);
    await chmod(ssh, 0o755);
    server = createServer({ allowHalfOpen: true }, (sock) => {
      sockets.add(sock);
      const s = serveSession(context, sock).finally(() => { sockets.delete(sock); sessions.delete(s); });
      sessions.add(s);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(sockPath, () => resolve());
    });
    const [file, ...args] = argv as [string, ...string[]];
    if (['scp', 'sftp'].includes(basename(file))) args.unshift('-S', ssh);
    return await runProgram(file, args, programEnv(dir, opts.env ?? process.env), opts);
  } finally {
    server?.close();
    // A session the program left behind (a backgrounded ssh) cannot outlive it.
    for (const s of sockets) s.destroy();
    await Promise.allSettled([...sessions]);
    await rm(dir, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** PATH with the fake ssh first; variables that would make a tool bypass PATH are dropped unless given in opts.env. */
function programEnv(dir: string, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PATH: `${dir}:${base.PATH ?? '/usr/bin:/bin'}` };
  if (base === process.env) for (const k of ['GIT_SSH', 'GIT_SSH_COMMAND', 'RSYNC_RSH']) delete env[k];
  return env;
}

function runProgram(file: string, args: string[], env: NodeJS.ProcessEnv, opts: FakesshOptions): Promise<FakesshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
    child.on('error', (e) => reject(new StreamError(`fakessh: cannot run ${file}: ${e.message}`)));
    child.on('close', (code, signal) => resolve({
      code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
    }));
  });
}

// ---------------------------------------------------------------- one ssh invocation

/** Writes one frame to the fake ssh; resolves once the socket has taken it. */
function writeFrame(sock: Socket, type: number, payload: Uint8Array): Promise<void> {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.byteLength, 1);
  return new Promise((resolve, reject) => {
    sock.cork();
    sock.write(head);
    sock.write(payload, (e) => (e ? reject(e) : resolve()));
    sock.uncork();
  });
}

async function exitWith(sock: Socket, code: number, message?: string): Promise<void> {
  if (message) await writeFrame(sock, FRAME_STDERR, Buffer.from(`${message}\n`));
  const status = Buffer.alloc(4);
  status.writeInt32BE(code);
  await writeFrame(sock, FRAME_EXIT, status);
  sock.end();
}

/** Reads the fake ssh's JSON header line; what follows it is the first of its stdin. */
async function readHeader(it: AsyncIterator<Buffer>): Promise<{ argv: string[]; rest: Buffer } | null> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const nl = buf.indexOf(10);
    if (nl >= 0) {
      const h = JSON.parse(buf.subarray(0, nl).toString()) as { argv: string[] };
      return { argv: h.argv, rest: buf.subarray(nl + 1) };
    }
    const r = await it.next();
    if (r.done) return null;
    buf = Buffer.concat([buf, r.value]);
  }
}

/** Relays one stream of the remote command (stdout or stderr) to the fake ssh. */
async function relayOutput(inl: Inlet, sock: Socket, type: number): Promise<void> {
  await inl.hello();
  for (;;) {
    const c = await inl.next();
    if (!c) return;
    await writeFrame(sock, type, c);
    inl.ack(c.byteLength);
  }
}

/** Relays the fake ssh's stdin to the remote command, then ends it. */
async function relayInput(out: Outlet, it: AsyncIterator<Buffer>, first: Buffer, kit: TransferKit): Promise<void> {
  await out.hello();
  if (first.byteLength) await out.send(kit.frameOf(first), first.byteLength);
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    await out.send(kit.frameOf(r.value), r.value.byteLength);
  }
  out.end();
}

async function serveSession(ctx: Context, sock: Socket): Promise<void> {
  sock.on('error', () => {}); // the fake ssh went away: its streams fail below
  // Reading must not destroy the socket at the fake ssh's EOF: we still write to it.
  const it = sock.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  const header = await readHeader(it).catch(() => null);
  if (!header) { sock.destroy(); return; }
  let command: string | null;
  let subsystem: boolean;
  try {
    ({ command, subsystem } = parseSshArgs(header.argv));
  } catch (e) {
    await exitWith(sock, 255, `ssh (mitogen-ts fakessh): ${(e as Error).message}`).catch(() => {});
    return;
  }
  if (command === null) {
    await exitWith(sock, 255, 'ssh (mitogen-ts fakessh): a remote command is needed; login sessions are not supported').catch(() => {});
    return;
  }
  const kit = localKit(ctx.router);
  const stdin = new kit.Outlet(ctx, WINDOW);
  const stdout = new kit.Inlet(ctx, WINDOW);
  const stderr = new kit.Inlet(ctx, WINDOW);
  const endpoints = [stdin, stdout, stderr];
  const far = remoteOp(ctx, 'runCommand', command, subsystem ? command : null, stdin.sender(), stdout.sender(), stderr.sender(), WINDOW);
  far.catch((e: unknown) => {
    for (const ep of endpoints) ep.fail({ code: 'ECHANNEL', message: e instanceof Error ? e.message : String(e), side: ctx.name });
  });
  // stdin may stop early (the command exited without reading it all): that is not a failure.
  const input = relayInput(stdin, it, header.rest, kit).catch(() => {});
  try {
    const outputs = Promise.all([relayOutput(stdout, sock, FRAME_STDOUT), relayOutput(stderr, sock, FRAME_STDERR)]);
    const status: ExitStatus = await far;
    await outputs;
    // As OpenSSH: the command's status, or 255 if a signal ended it.
    await exitWith(sock, status.code ?? 255);
  } catch (e) {
    // Tell the far end too: its command then sees EOF on stdin and EPIPE on output, as with a dropped ssh.
    for (const ep of endpoints) ep.abort(kit.failInfo(e));
    await exitWith(sock, 255, `ssh (mitogen-ts fakessh): ${(e as Error).message}`).catch(() => {});
  } finally {
    for (const ep of endpoints) ep.close();
    await input;
  }
}
