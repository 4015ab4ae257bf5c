/** buildah: `buildah run [--user=U] -- CONTAINER node …` in a working container (Mitogen's argv). */
import { firstStageArgv } from '../src/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface BuildahOptions {
  /** A working container, as `buildah from` made it. */
  container: string;
  buildahPath?: string | string[];
  username?: string;
  nodePath?: string | string[];
}

export const buildah: Transport<BuildahOptions> = {
  method: 'buildah',
  defaultName: (o) => `buildah.${o.container}`,
  argv(o, common) {
    const user = o.username ? [`--user=${o.username}`] : [];
    return [...toolArgv(o.buildahPath, 'buildah'), 'run', ...user, '--', o.container,
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
