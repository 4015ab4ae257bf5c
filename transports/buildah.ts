/** buildah: `buildah run [--user=U] -- CONTAINER node …` in a working container (Mitogen's argv). */
import { inContainer } from './in-container.js';
import type { ContainerOptions } from './in-container.js';
import { toolArgv } from './tool-argv.js';

export interface BuildahOptions extends ContainerOptions {
  /** A working container, as `buildah from` made it. */
  container: string;
  buildahPath?: string | string[];
  username?: string;
}

export const buildah = inContainer<BuildahOptions>('buildah', (o) =>
  [...toolArgv(o.buildahPath, 'buildah'), 'run', ...(o.username ? [`--user=${o.username}`] : []), '--', o.container]);
