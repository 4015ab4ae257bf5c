/** doas (OpenBSD's, or opendoas): `doas -u USER -- node …`; `nopass` rules need no password. */
import type { LoginSpec } from '../src/bootstrap-types.js';
import { firstStageArgv } from '../src/first-stage.js';
import type { Transport } from './transport.js';
import { escapeRegExp } from './escape-regexp.js';

export interface DoasOptions {
  username?: string;
  password?: string;
  doasPath?: string | string[];
  /** The prompt to answer (default "password:", any case). */
  passwordPrompt?: string;
  incorrectPrompts?: string[];
  nodePath?: string | string[];
}

export const DOAS_INCORRECT = ['doas: authentication failed', 'doas: authorization failed'];

export const doas: Transport<DoasOptions> = {
  method: 'doas',
  defaultName: (o) => `doas.${o.username ?? 'root'}`,
  argv(o, common) {
    const doasPath = typeof o.doasPath === 'object' ? o.doasPath : [o.doasPath ?? 'doas'];
    return [...doasPath, '-u', o.username ?? 'root', '--', ...firstStageArgv(o.nodePath ?? 'node', common.remoteName)];
  },
  login(o): LoginSpec {
    return {
      method: 'doas',
      password: o.password,
      passwordPrompts: [escapeRegExp(o.passwordPrompt ?? 'password:')],
      incorrect: (o.incorrectPrompts ?? DOAS_INCORRECT).map(escapeRegExp),
      fatal: ['^doas: operation not permitted'],
    };
  },
};
