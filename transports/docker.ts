/**
 * docker: `docker exec --interactive [--user=U] CONTAINER node …`, or with
 * `image`, a temporary container: `docker run --interactive [--user=U] --rm
 * IMAGE node …` (Mitogen's argv). Only pipes, never `-t`: the protocol is binary.
 */
import { StreamError } from '../src/wire/errors.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface DockerOptions {
  /** A running container (name or id). */
  container?: string;
  /** Instead of `container`: an image to start a `--rm` container from (pulled as `docker run` pulls). */
  image?: string;
  dockerPath?: string | string[];
  /** The user inside the container (`--user`: a name or uid[:gid]). */
  username?: string;
  nodePath?: string | string[];
}

export const docker: Transport<DockerOptions> = {
  method: 'docker',
  defaultName: (o) => `docker.${o.container ?? o.image}`,
  argv(o, common) {
    if (!o.container === !o.image) throw new StreamError('docker: give either container or image (exactly one)');
    const args = ['--interactive', ...(o.username ? [`--user=${o.username}`] : [])];
    const how = o.container ? ['exec', ...args, o.container] : ['run', ...args, '--rm', o.image!];
    return [...toolArgv(o.dockerPath, 'docker'), ...how, ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
