/** doas (OpenBSD's, or opendoas): `doas -u USER -- node …`; `nopass` rules need no password. */
import type { LoginSpec } from '../src/threads/bootstrap-types.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { passwordLogin } from './password-login.js';
import type { PasswordOptions } from './password-login.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface DoasOptions extends PasswordOptions {
  doasPath?: string | string[];
}

export const DOAS_INCORRECT = ['doas: authentication failed', 'doas: authorization failed'];

export const doas: Transport<DoasOptions> = {
  method: 'doas',
  defaultName: (o) => `doas.${o.username ?? 'root'}`,
  argv(o, common) {
    return [...toolArgv(o.doasPath, 'doas'), '-u', o.username ?? 'root', '--', ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
  login(o): LoginSpec {
    return passwordLogin('doas', o, DOAS_INCORRECT, ['^doas: operation not permitted']);
  },
};
