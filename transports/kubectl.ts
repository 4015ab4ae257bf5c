/**
 * kubectl: `kubectl [kubectlArgs] exec -i POD -- node …`. Mitogen passes
 * `-it`; we leave the terminal out, since the protocol is binary and a
 * terminal would mangle it (kubectl only warns without one anyway).
 */
import { firstStageArgv } from '../src/wire/first-stage.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface KubectlOptions {
  pod: string;
  kubectlPath?: string | string[];
  /** kubectl's own options, before `exec` (e.g. ['--kubeconfig', path, '-n', 'prod']). */
  kubectlArgs?: string[];
  nodePath?: string | string[];
}

export const kubectl: Transport<KubectlOptions> = {
  method: 'kubectl',
  defaultName: (o) => `kubectl.${o.pod}${o.kubectlArgs?.length ? `[${o.kubectlArgs.join(' ')}]` : ''}`,
  argv(o, common) {
    return [...toolArgv(o.kubectlPath, 'kubectl'), ...(o.kubectlArgs ?? []), 'exec', '-i', o.pod, '--',
      ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
};
