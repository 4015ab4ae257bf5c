/** The config a new context receives, built the same way for a child process and a fork. */
import type { ChildConfig, ConnectSpecBase } from '../../src/threads/bootstrap-types.js';

export function childConfig(spec: ConnectSpecBase, name: string, parent: { myId: number; parentIds: number[] }, extra: Partial<ChildConfig> = {}): ChildConfig {
  return {
    contextId: spec.contextId,
    parentIds: [parent.myId, ...parent.parentIds],
    name,
    maxMessageSize: spec.maxMessageSize,
    debug: spec.debug,
    profiling: spec.profiling,
    unidirectional: spec.unidirectional,
    ...extra,
  };
}
