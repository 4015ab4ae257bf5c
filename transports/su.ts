/**
 * su: `su USER -c '<node and its first stage, shell-quoted>'`, typing the
 * target user's password. Failure texts of util-linux, BSD and busybox su.
 */
import type { LoginSpec } from '../src/threads/bootstrap-types.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { passwordLogin } from './password-login.js';
import type { PasswordOptions } from './password-login.js';
import { shellQuote } from './shell-quote.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export interface SuOptions extends PasswordOptions {
  /** The target user's password. */
  password?: string;
  suPath?: string | string[];
}

export const SU_INCORRECT = ['su: sorry', 'su: authentication failure', 'su: incorrect password', 'authentication is denied', 'su: permission denied'];

export const su: Transport<SuOptions> = {
  method: 'su',
  defaultName: (o) => `su.${o.username ?? 'root'}`,
  argv(o, common) {
    return [...toolArgv(o.suPath, 'su'), o.username ?? 'root', '-c', shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName))];
  },
  login(o, common): LoginSpec {
    return {
      ...passwordLogin('su', o, SU_INCORRECT, ['^su: user .* does not exist']),
      answerOn: 'stdin',
      // PAM's conversation needs no terminal here: the same command works on pipes.
      pipeArgv: su.argv(o, common),
    };
  },
};
