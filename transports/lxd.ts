/**
 * lxd: LXD's client, `lxc exec --mode=non-interactive CONTAINER -- node …`.
 * Mitogen spells the mode `noninteractive`, which LXD does not know (it then
 * decides by whether stdin and stdout are terminals); we pass the spelling LXD
 * documents, so a terminal on our side can never make it interactive.
 */
import { firstStageArgv } from '../src/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface LxdOptions {
  container: string;
  /** LXD's client (default 'lxc'). */
  lxcPath?: string | string[];
  nodePath?: string | string[];
}

export const lxd: Transport<LxdOptions> = {
  method: 'lxd',
  defaultName: (o) => `lxd.${o.container}`,
  argv(o, common) {
    return [...toolArgv(o.lxcPath, 'lxc'), 'exec', '--mode=non-interactive', o.container, '--',
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
