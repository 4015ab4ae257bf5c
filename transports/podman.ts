/** podman: `podman exec [--user=U] --interactive -- CONTAINER node …` (Mitogen's argv). */
import { inContainer } from './in-container.js';
import type { ContainerOptions } from './in-container.js';
import { toolArgv } from './tool-argv.js';

export interface PodmanOptions extends ContainerOptions {
  podmanPath?: string | string[];
  username?: string;
}

export const podman = inContainer<PodmanOptions>('podman', (o) =>
  [...toolArgv(o.podmanPath, 'podman'), 'exec', ...(o.username ? [`--user=${o.username}`] : []), '--interactive', '--', o.container]);
