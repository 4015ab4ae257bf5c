/**
 * lxc: classic LXC, `lxc-attach --clear-env --name CONTAINER -- node …`
 * (Mitogen's argv). --clear-env: the caller's environment means nothing inside.
 */
import { firstStageArgv } from '../src/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface LxcOptions {
  container: string;
  lxcAttachPath?: string | string[];
  nodePath?: string | string[];
}

export const lxc: Transport<LxcOptions> = {
  method: 'lxc',
  defaultName: (o) => `lxc.${o.container}`,
  argv(o, common) {
    return [...toolArgv(o.lxcAttachPath, 'lxc-attach'), '--clear-env', '--name', o.container, '--',
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
