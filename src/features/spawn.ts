/**
 * ctx.spawn: a process started in a context, with live output. The process
 * runs there (src/features/spawn-there.ts); its stdout and stderr come back through
 * ctx.observe, so they flow under the same credit as any remote Observable:
 * a fast producer and a slow consumer keep both sides' memory bounded, the
 * unread rest waiting in the process's pipe.
 *
 * Read both streams (or unsubscribe from the one you do not want, which
 * drops it there): like any pipe, an unread one fills and the process
 * blocks writing to it.
 */
import type { ContextView } from '../runtime/context-view.js';
import { MitogenError, SpawnError } from '../wire/errors.js';
import { LineStream, ProcessOutput } from './spawn-output.js';
import type { OutputStream } from './spawn-output.js';
import { exitThere, killThere, readThere, startThere, writeThere } from './spawn-there.js';
import type { ExitStatus, StartFailure } from './spawn-there.js';
import type { Outcome } from '../wire/outcome.js';

export interface SpawnOptions {
  cwd?: string;
  /** Added to the context's environment. */
  env?: Record<string, string>;
  /**
   * Run `command` through a shell: true for /bin/sh, or a shell's path.
   * Default: true when no args are given (`spawn('ls -l | wc')`), else false.
   */
  shell?: boolean | string;
  /** Written to stdin, which is then closed; without it, stdin stays open for write()/end(). */
  input?: string | Uint8Array;
  /** Kill the process (SIGTERM to its group) when a subscription to its output is torn down before the output ended. */
  killOnUnsubscribe?: boolean;
}

export interface ProcessExit {
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  /** The signal's name (e.g. 'SIGTERM'), or null. */
  signal: string | null;
}

let nextId = 0;

/** A handle on a process running in a context. */
export class SpawnedProcess {
  /** This process's id in its context. */
  readonly id: string;
  /** Its pid there; rejects with SpawnError when it could not start. */
  readonly pid: Promise<number>;
  readonly stdout: OutputStream<Uint8Array>;
  readonly stderr: OutputStream<Uint8Array>;
  /**
   * Resolves when the process exits (its output may still be arriving);
   * SpawnError when it could not start, ChannelError when the context went.
   */
  readonly exit: Promise<ProcessExit>;
  /** The command line, for messages. */
  readonly command: string;
  private readonly claimed = { stdout: false, stderr: false };
  private readonly lineStreams: Partial<Record<'stdout' | 'stderr', LineStream>> = {};
  private writeSeq = 0;
  private stdinClosed: boolean;

  constructor(readonly context: ContextView, file: string, args: string[], command: string, opts: SpawnOptions) {
    this.id = `${context.router.myId}.${++nextId}`;
    this.command = command;
    this.stdinClosed = opts.input !== undefined;
    // Every operation is sent now, without waiting for the start: the context
    // holds those that overtake it until the process runs (src/features/spawn-there.ts).
    this.pid = context.call(startThere, this.id, file, args, {
      cwd: opts.cwd, env: opts.env, input: opts.input, killOnUnsubscribe: opts.killOnUnsubscribe,
    }).then((r: Outcome<number, StartFailure>) => {
      if (!r.ok) throw new SpawnError(`cannot run ${command} in ${context.name}: ${r.why.message}`, r.why.code);
      return r.value;
    });
    // A process lives as long as it lives: router.callTimeout does not bound waiting for its exit.
    this.exit = context.callWith({ timeout: Infinity }, exitThere, this.id).then(async (r: Outcome<ExitStatus, StartFailure>): Promise<ProcessExit> => {
      // It never started: the pid's rejection (its SpawnError) is this promise's too; the throw below is for the type's sake.
      if (!r.ok) { await this.pid; throw new SpawnError(`cannot run ${command} in ${context.name}: ${r.why.message}`, r.why.code); }
      return r.value;
    });
    // Whoever ignores these promises must not crash on them: the rejection still reaches whoever awaits.
    this.pid.catch(() => {});
    this.exit.catch(() => {});
    this.stdout = this.output('stdout');
    this.stderr = this.output('stderr');
  }

  /** The decoded lines of stdout or stderr (UTF-8; no line ends), as an Observable, also async iterable. */
  lines(which: 'stdout' | 'stderr'): LineStream {
    if (which !== 'stdout' && which !== 'stderr') throw new TypeError(`lines() takes 'stdout' or 'stderr', not ${String(which)}`);
    return (this.lineStreams[which] ??= new LineStream(this[which]));
  }

  /** Writes to the process's stdin; resolves once the context has handed it to the pipe. */
  write(data: string | Uint8Array): Promise<void> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) return Promise.reject(new TypeError(`write() takes a string or a Uint8Array, not ${typeof data}`));
    return this.stdin(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }

  /** Closes the process's stdin. */
  end(): Promise<void> {
    return this.stdin(null);
  }

  /** Sends a signal (default SIGTERM) to the process's group; resolves false when it had already exited. */
  kill(signal: string = 'SIGTERM'): Promise<boolean> {
    const done = this.pid.then(() => this.context.call(killThere, this.id, signal));
    done.catch(() => {});
    return done;
  }

  private stdin(data: Uint8Array | null): Promise<void> {
    if (this.stdinClosed) {
      const e = Promise.reject(new MitogenError(`cannot write to ${this.command} in ${this.context.name}: its stdin is closed`));
      e.catch(() => {});
      return e;
    }
    if (data === null) this.stdinClosed = true;
    const seq = this.writeSeq++;
    const done = this.pid.then(() => this.context.call(writeThere, this.id, seq, data));
    // A write nobody awaits must not crash the caller; a failed write shows in the exit status.
    done.catch(() => {});
    return done;
  }

  private output(which: 'stdout' | 'stderr'): OutputStream<Uint8Array> {
    return new ProcessOutput<Uint8Array>(() => {
      if (this.claimed[which]) throw new MitogenError(`${which} of ${this.command} in ${this.context.name} can be read once (stdout and lines('stdout') are one stream)`);
      this.claimed[which] = true;
      return this.context.observe<Uint8Array>(readThere, this.id, which);
    }, this.pid);
  }
}

/** Starts `file args` (or `command` through a shell) in `ctx`. */
export function spawn(ctx: ContextView, command: string, args: string[] | undefined, opts: SpawnOptions = {}): SpawnedProcess {
  if (typeof command !== 'string' || !command) throw new TypeError(`spawn() takes a command string, not ${command === '' ? 'an empty string' : typeof command}`);
  if (args !== undefined && (!Array.isArray(args) || args.some((a) => typeof a !== 'string'))) throw new TypeError('spawn() takes its args as an array of strings');
  const shell = opts.shell ?? args === undefined;
  if (shell) {
    const sh = typeof shell === 'string' ? shell : '/bin/sh';
    const line = args?.length ? [command, ...args].join(' ') : command;
    return new SpawnedProcess(ctx, sh, ['-c', line], line, opts);
  }
  return new SpawnedProcess(ctx, command, args ?? [], [command, ...(args ?? [])].join(' '), opts);
}
