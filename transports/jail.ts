/**
 * jail: a FreeBSD jail, `jexec [-U USER] JAIL node …` (Mitogen's argv;
 * `-U` takes the user from the jail's own password file).
 */
import { inContainer } from './in-container.js';
import type { ContainerOptions } from './in-container.js';
import { toolArgv } from './tool-argv.js';

export interface JailOptions extends ContainerOptions {
  /** The jail's name or jid. */
  container: string;
  /** Default '/usr/sbin/jexec', where FreeBSD has it. */
  jexecPath?: string | string[];
  username?: string;
}

export const jail = inContainer<JailOptions>('jail', (o) =>
  [...toolArgv(o.jexecPath, '/usr/sbin/jexec'), ...(o.username ? ['-U', o.username] : []), o.container]);
