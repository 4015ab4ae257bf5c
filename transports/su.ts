/**
 * su: `su USER -c '<node and its first stage, shell-quoted>'`, typing the
 * target user's password. Failure texts of util-linux, BSD and busybox su.
 */
import type { LoginSpec } from '../src/bootstrap-types.js';
import { firstStageArgv } from '../src/first-stage.js';
import { shellQuote } from './shell-quote.js';
import type { Transport } from './transport.js';
import { escapeRegExp } from './escape-regexp.js';

export interface SuOptions {
  username?: string;
  /** The target user's password. */
  password?: string;
  suPath?: string | string[];
  /** The prompt to answer (default "password:", any case). */
  passwordPrompt?: string;
  /** Texts that mean the password was refused. */
  incorrectPrompts?: string[];
  nodePath?: string | string[];
}

export const SU_INCORRECT = ['su: sorry', 'su: authentication failure', 'su: incorrect password', 'authentication is denied', 'su: permission denied'];

export const su: Transport<SuOptions> = {
  method: 'su',
  defaultName: (o) => `su.${o.username ?? 'root'}`,
  argv(o, common) {
    const suPath = typeof o.suPath === 'object' ? o.suPath : [o.suPath ?? 'su'];
    return [...suPath, o.username ?? 'root', '-c', shellQuote(firstStageArgv(o.nodePath ?? 'node', common.remoteName))];
  },
  login(o, common): LoginSpec {
    return {
      method: 'su',
      password: o.password,
      passwordPrompts: [escapeRegExp(o.passwordPrompt ?? 'password:')],
      incorrect: (o.incorrectPrompts ?? SU_INCORRECT).map(escapeRegExp),
      fatal: ['^su: user .* does not exist'],
      answerOn: 'stdin',
      // PAM's conversation needs no terminal here: the same command works on pipes.
      pipeArgv: su.argv(o, common),
    };
  },
};
