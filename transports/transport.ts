/**
 * A transport is a thin description of a connection method: the command it
 * runs (and, for methods that log in, the prompts it answers). Everything
 * else — spawning, the bootstrap, routing — is shared. Two methods run no
 * command here, each its own kind: ssh with the in-process client, and fork.
 */
import type { ForkSpec, LoginSpec, Ssh2Spec } from '../src/threads/bootstrap-types.js';

export interface CommonArgs {
  remoteName: string;
}

/** What every transport says, whatever its kind. */
interface TransportBase<O> {
  /** Mitogen's method name; contexts are named `${method}.${pid}` by default. */
  method: string;
  /** The context's name when none is given (Mitogen's `sudo.root`); default `${method}.${pid}`. */
  defaultName?(opts: O): string | undefined;
  /** For methods that log in: the prompts to answer and the password. */
  login?(opts: O, common: CommonArgs): LoginSpec;
}

/** A method that runs a command here (most of them; a custom transport is one). */
export interface Transport<O> extends TransportBase<O> {
  /** Absent: 'spawn' too, so a transport written as `{ method, argv }` stays one. */
  kind?: 'spawn';
  argv(opts: O, common: CommonArgs): string[];
  env?(opts: O): Record<string, string> | undefined;
}

/** ssh with the in-process client: where to connect, and the command to run there. */
export interface Ssh2Transport<O> extends TransportBase<O> {
  kind: 'ssh2';
  /** What runs remotely, one string for the login shell (as the OpenSSH client would be given it). */
  command(opts: O, common: CommonArgs): string;
  /** Where and how to connect (all but the command); refuses what the client cannot honour. */
  extra(opts: O): { ssh2: Omit<Ssh2Spec, 'command'> };
}

/** A fork: a worker thread of the connecting context, started with no command. */
export interface ForkTransport<O> extends TransportBase<O> {
  kind: 'fork';
  /** What the fork runs first and its limits. */
  extra(opts: O): { fork: ForkSpec['fork'] };
}

/** Any transport: what connect() takes; connectSpec makes a ConnectSpec of the same kind. */
export type AnyTransport<O> = Transport<O> | Ssh2Transport<O> | ForkTransport<O>;
