/**
 * What a connect asks a broker to start: the ConnectSpec made of a
 * transport's description (the command it runs, the prompts it answers), the
 * options every connection method takes, and the router's own settings.
 */
import os from 'node:os';
import type { ConnectSpec, ConnectSpecBase, SpawnSpec } from '../threads/bootstrap-types.js';
import type { Context } from '../runtime/context.js';
import { StreamError } from '../wire/errors.js';
import { isDebugEnabled } from '../runtime/log.js';
import { ptyModuleDir } from './pty-module.js';
import type { AnyTransport } from '../../transports/transport.js';

/** Where `profiling: true` children write their CPU profiles (CPU.*.<pid>.*.cpuprofile). */
export const PROFILE_DIR = '/tmp/mitogen-ts-profiles';

/** Options every connection method takes (Mitogen's names, camelCased). */
export interface ConnectOptions {
  /** The child's process title is `mitogen:<remoteName>`; default `<user>@<host>:<pid>`. */
  remoteName?: string;
  /** The context's name; default `<method>.<pid>`. */
  name?: string;
  debug?: boolean;
  unidirectional?: boolean;
  /** Seconds the whole bootstrap may take (default 30). */
  connectTimeout?: number;
  /** Write a CPU profile in the child (node --cpu-prof) into PROFILE_DIR, /tmp/mitogen-ts-profiles. */
  profiling?: boolean;
  /** Construct the new context through this one. */
  via?: Context;
}

/** The spec for starting context `contextId` with `transport`; `router` is what the connecting router's limits are now. */
export function connectSpec<O>(
  transport: AnyTransport<O>,
  opts: O & ConnectOptions,
  contextId: number,
  router: { maxMessageSize: number; unidirectional: boolean },
): ConnectSpec {
  const common = { remoteName: opts.remoteName ?? defaultRemoteName() };
  const base: ConnectSpecBase = {
    contextId,
    method: transport.method,
    name: opts.name ?? transport.defaultName?.(opts),
    connectTimeout: opts.connectTimeout ?? 30,
    maxMessageSize: router.maxMessageSize,
    debug: opts.debug ?? isDebugEnabled(),
    profiling: opts.profiling ?? false,
    // As Mitogen's connect(): the router's mode is the default for the children it starts.
    unidirectional: opts.unidirectional ?? router.unidirectional,
  };
  switch (transport.kind) {
    case undefined:
    case 'spawn': {
      const argv = transport.argv(opts, common);
      const spec: SpawnSpec = {
        ...base,
        kind: 'spawn',
        argv,
        env: transport.env?.(opts),
        login: transport.login?.(opts, common),
        ptyModule: transport.login ? ptyModuleDir() : undefined,
      };
      // Written when the child exits, as Mitogen's profiling writes /tmp/mitogen.stats.*.
      // A command whose first stage is one quoted word (ssh's) has no -e of its own: not profiled.
      const eAt = argv.lastIndexOf('-e');
      if (spec.profiling && eAt >= 0) argv.splice(eAt, 0, '--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`);
      return spec;
    }
    case 'ssh2': {
      // In this order (the command, the login, then the settings' checks), as their errors always came.
      const command = transport.command(opts, common);
      const login = transport.login?.(opts, common);
      // The command is one quoted word, as ssh's: profiling does not reach it (as with ssh).
      return { ...base, kind: 'ssh2', ssh2: { ...transport.extra(opts).ssh2, command }, login };
    }
    case 'fork':
      return { ...base, kind: 'fork', ...transport.extra(opts) };
    default: {
      const unknown: never = transport;
      throw new StreamError(`cannot connect: unknown transport kind ${JSON.stringify((unknown as { kind: unknown }).kind)}`);
    }
  }
}

/** `<user>@<host>:<pid>`, slashes made underscores (a Windows `DOMAIN\\user`), as Mitogen's get_default_remote_name. */
export function defaultRemoteName(user = os.userInfo().username, host = os.hostname(), pid = process.pid): string {
  return `${user}@${host}:${pid}`.replace(/[\\/]/g, '_');
}
