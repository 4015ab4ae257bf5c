/** The stub tools of test/fixtures/stubs, and reading back what they recorded in a context. */
import type { Context } from '../../../src/index.js';
import { fixturesDir } from '../../helpers.js';

export const stub = (tool: 'sudo' | 'su' | 'doas' | 'ssh' | 'node'): string => `${fixturesDir}stubs/stub-${tool}.cjs`;

/** The argv the stub was started with (argv[0] its path), as the context it started sees it. */
export async function originalArgv(ctx: Context): Promise<string[]> {
  return JSON.parse((await ctx.call(() => process.env.ORIGINAL_ARGV)) ?? 'null') as string[];
}

export const envOf = (ctx: Context, name: string): Promise<string | undefined> => ctx.call((n: string) => process.env[n], name);
