/**
 * lxd: LXD's client, `lxc exec --mode=non-interactive CONTAINER -- node …`.
 * Mitogen spells the mode `noninteractive`, which LXD does not know (it then
 * decides by whether stdin and stdout are terminals); we pass the spelling LXD
 * documents, so a terminal on our side can never make it interactive.
 */
import { inContainer } from './in-container.js';
import type { ContainerOptions } from './in-container.js';
import { toolArgv } from './tool-argv.js';

export interface LxdOptions extends ContainerOptions {
  /** LXD's client (default 'lxc'). */
  lxcPath?: string | string[];
}

export const lxd = inContainer<LxdOptions>('lxd', (o) =>
  [...toolArgv(o.lxcPath, 'lxc'), 'exec', '--mode=non-interactive', o.container, '--']);
