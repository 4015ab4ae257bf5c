/**
 * A transport is a thin description of a connection method: the command it
 * runs (and, for methods that log in, the prompts it answers). Everything
 * else — spawning, the bootstrap, routing — is shared.
 */
import type { ConnectSpec, LoginSpec } from '../src/bootstrap-types.js';

export interface CommonArgs {
  remoteName: string;
}

export interface Transport<O> {
  /** Mitogen's method name; contexts are named `${method}.${pid}` by default. */
  method: string;
  argv(opts: O, common: CommonArgs): string[];
  env?(opts: O): Record<string, string> | undefined;
  /** The context's name when none is given (Mitogen's `sudo.root`); default `${method}.${pid}`. */
  defaultName?(opts: O): string | undefined;
  /** For methods that log in: the prompts to answer and the password. */
  login?(opts: O, common: CommonArgs): LoginSpec;
  /** Anything else the connecting broker needs (e.g. a fork's onStart and limits). */
  extra?(opts: O): Partial<ConnectSpec>;
}
