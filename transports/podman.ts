/** podman: `podman exec [--user=U] --interactive -- CONTAINER node …` (Mitogen's argv). */
import { firstStageArgv } from '../src/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface PodmanOptions {
  container: string;
  podmanPath?: string | string[];
  username?: string;
  nodePath?: string | string[];
}

export const podman: Transport<PodmanOptions> = {
  method: 'podman',
  defaultName: (o) => `podman.${o.container}`,
  argv(o, common) {
    const user = o.username ? [`--user=${o.username}`] : [];
    return [...toolArgv(o.podmanPath, 'podman'), 'exec', ...user, '--interactive', '--', o.container,
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
