/**
 * A transport is a thin description of a connection method: the command it
 * runs (and, for methods that log in, the prompts it answers). Everything
 * else — spawning, the bootstrap, routing — is shared.
 */
export interface CommonArgs {
  remoteName: string;
}

export interface Transport<O> {
  /** Mitogen's method name; contexts are named `${method}.${pid}` by default. */
  method: string;
  argv(opts: O, common: CommonArgs): string[];
  env?(opts: O): Record<string, string> | undefined;
}
