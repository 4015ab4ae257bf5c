/**
 * How the command line reaches a target: ssh (or a local child, or a docker
 * container), through the --via chain when there is one, then become
 * (sudo/su/doas) there. Each target is a connect function for fanOut().
 */
import type { Context } from '../runtime/context.js';
import type { Router } from '../runtime/router.js';
import type { CliArgs } from './cli-args.js';
import type { SshTarget, Target } from './cli-target.js';

/** A fanOut target: connects, and knows the target it was made from and the hops it opened. */
export type Connect = (() => Promise<Context>) & {
  target: Target;
  /** Contexts opened for this target below the one handed to fn (the ssh hop under a sudo): shut down with it. */
  below: Context[];
};

/** Options every connection of the command line takes. */
function common(args: CliArgs): { connectTimeout?: number } {
  return args.connectTimeout !== undefined ? { connectTimeout: args.connectTimeout } : {};
}

function sshOptions(args: CliArgs, t: SshTarget, via: Context | undefined) {
  return {
    ...args.ssh,
    ...common(args),
    hostname: t.hostname,
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.port !== undefined ? { port: t.port } : {}),
    ...(via ? { via } : {}),
  };
}

/** One connect function per target; the --via chain is connected once, on first use, and shared. */
export function connectors(router: Router, args: CliArgs, becomePassword: string | undefined): Connect[] {
  let viaChain: Promise<Context | undefined> | undefined;
  const via = (): Promise<Context | undefined> => (viaChain ??= args.via.reduce<Promise<Context | undefined>>(
    async (prev, hop) => router.ssh(sshOptions(args, hop, await prev)), Promise.resolve(undefined)));

  const first = async (t: Target): Promise<Context> => {
    const v = await via();
    if (t.kind === 'ssh') return router.ssh(sshOptions(args, t, v));
    if (t.kind === 'docker') return router.docker({ container: t.container, ...common(args), ...(v ? { via: v } : {}) });
    return router.local({ ...common(args), ...(v ? { via: v } : {}) });
  };

  return args.targets.map((target) => {
    const below: Context[] = [];
    const connect = async (): Promise<Context> => {
      const ctx = await first(target);
      if (!args.become) return ctx;
      below.push(ctx);
      const opts = {
        via: ctx,
        ...common(args),
        ...(args.become.username !== undefined ? { username: args.become.username } : {}),
        ...(becomePassword !== undefined ? { password: becomePassword } : {}),
      };
      try {
        return await (args.become.method === 'sudo' ? router.sudo(opts) : args.become.method === 'su' ? router.su(opts) : router.doas(opts));
      } catch (e) {
        void ctx.shutdown().catch(() => {});
        throw e;
      }
    };
    // fanOut names a function target by its name in its errors ("fanOut: h1 took longer than 8 s").
    Object.defineProperty(connect, 'name', { value: target.text });
    return Object.assign(connect, { target, below });
  });
}
