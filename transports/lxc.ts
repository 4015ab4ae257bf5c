/**
 * lxc: classic LXC, `lxc-attach --clear-env --name CONTAINER -- node …`
 * (Mitogen's argv). --clear-env: the caller's environment means nothing inside.
 */
import { inContainer } from './in-container.js';
import type { ContainerOptions } from './in-container.js';
import { toolArgv } from './tool-argv.js';

export interface LxcOptions extends ContainerOptions {
  lxcAttachPath?: string | string[];
}

export const lxc = inContainer<LxcOptions>('lxc', (o) =>
  [...toolArgv(o.lxcAttachPath, 'lxc-attach'), '--clear-env', '--name', o.container, '--']);
