/**
 * jail: a FreeBSD jail, `jexec [-U USER] JAIL node …` (Mitogen's argv;
 * `-U` takes the user from the jail's own password file).
 */
import { firstStageArgv } from '../src/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface JailOptions {
  /** The jail's name or jid. */
  container: string;
  /** Default '/usr/sbin/jexec', where FreeBSD has it. */
  jexecPath?: string | string[];
  username?: string;
  nodePath?: string | string[];
}

export const jail: Transport<JailOptions> = {
  method: 'jail',
  defaultName: (o) => `jail.${o.container}`,
  argv(o, common) {
    const user = o.username ? ['-U', o.username] : [];
    return [...toolArgv(o.jexecPath, '/usr/sbin/jexec'), ...user, o.container,
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
