/**
 * The shape the container methods share (buildah, podman, jail, lxc, lxd):
 * a tool's command that enters `container`, then node's first stage there;
 * the context is named `${method}.${container}`.
 */
import { firstStageArgv } from '../src/wire/first-stage.js';
import type { Transport } from './transport.js';

export interface ContainerOptions {
  /** The container to enter (name or id). */
  container: string;
  nodePath?: string | string[];
}

/** A transport running `enter(o)` — the tool and its options, up to the container — followed by node. */
export function inContainer<O extends ContainerOptions>(method: string, enter: (o: O) => string[]): Transport<O> {
  return {
    method,
    defaultName: (o) => `${method}.${o.container}`,
    argv: (o, common) => [...enter(o), ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)],
  };
}
