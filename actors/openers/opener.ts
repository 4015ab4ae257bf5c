/**
 * The seam between starting a child and bootstrapping it: each opener
 * (a spawned command, a login on a PTY, an in-process ssh session) returns
 * the same thing, and the bootstrap runs over it whatever it came from.
 * BrokerCore.connect picks the opener by the spec's kind (a fork has none:
 * it skips the bootstrap).
 */
import type { Readable, Writable } from 'node:stream';
import type { BootstrapSpec } from '../../src/threads/bootstrap-types.js';
import type { PtyPair } from '../bootstrap/login-watcher.js';

/** What the bootstrap needs of a child: a process, or an in-process ssh session that behaves like one. */
export interface ChildLike {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  on(event: 'spawn', listener: () => void): this;
  on(event: 'error', listener: (e: NodeJS.ErrnoException) => void): this;
  on(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'spawn', listener: () => void): this;
  once(event: 'error', listener: (e: NodeJS.ErrnoException) => void): this;
  once(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/** An opened child: its stdio carries the bootstrap, a login's prompts come on `pty` if it has one. */
export interface Opened {
  child: ChildLike;
  /** The login's terminal (its slave end already closed here): prompts are read and answered on it. */
  pty?: PtyPair;
  /** Where a login's password goes: its terminal, or stdin (su; a method's pipe form when no PTY opens). */
  answerOn: 'tty' | 'stdin';
}

/** Opens the child; `onDebug`, with `debug`, takes the opener's own debug lines (ssh2's). */
export type Open = (onDebug: ((text: string) => void) | undefined) => Opened;

/**
 * The command's file as messages name it ("could not start X", "X exited
 * with status 255"). A function of the spec rather than an argv on every
 * kind: only a command has one, and an ssh2 session is named 'ssh2', as the
 * messages always named it.
 */
export function describeCommand(spec: BootstrapSpec): string {
  return spec.kind === 'spawn' ? spec.argv[0] : 'ssh2';
}
