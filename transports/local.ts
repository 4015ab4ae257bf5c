/**
 * local: a child Node.js process on the machine of the context that starts it
 * (Mitogen's `local`). The command is the interpreter with the first stage.
 */
import { firstStageArgv } from '../src/wire/first-stage.js';
import type { Transport } from './transport.js';

export interface LocalOptions {
  /** The interpreter: a path, or an argv list to run it through (e.g. ['unshare', '--mount', '--', 'node']). */
  nodePath?: string | string[];
}

export const local: Transport<LocalOptions> = {
  method: 'local',
  argv(opts, common) {
    return firstStageArgv(opts.nodePath ?? 'node', common.remoteName);
  },
};
