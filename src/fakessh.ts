/** mitogen-ts/fakessh: run ssh-speaking tools through any context (Mitogen's mitogen.fakessh). */
import type { Context } from './context.js';
import { MitogenError } from './errors.js';

export interface FakesshResult { code: number | null; signal: string | null; stderr: string }

/** Not built yet: the fakessh issue delivers it. */
export async function run(_context: Context, _argv: string[], _opts?: object): Promise<FakesshResult> {
  throw new MitogenError('fakessh.run is not built yet (see the fakessh and file transfer issue)');
}
