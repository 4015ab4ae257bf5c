/**
 * What doas and su share: they become `username` (default root), typing the
 * password at a prompt, and know a refusal by the texts they print. Texts are
 * matched as written, not as patterns.
 */
import type { LoginSpec } from '../src/threads/bootstrap-types.js';
import { escapeRegExp } from './escape-regexp.js';

export interface PasswordOptions {
  username?: string;
  password?: string;
  /** The prompt to answer (default "password:", any case). */
  passwordPrompt?: string;
  /** Texts that mean the password was refused (default: the method's own). */
  incorrectPrompts?: string[];
  nodePath?: string | string[];
}

/** The login of `method`: `o.passwordPrompt` answered with `o.password`; `incorrect` the refusals unless `o` gives its own; `fatal`, patterns that end it. */
export function passwordLogin(method: LoginSpec['method'], o: PasswordOptions, incorrect: readonly string[], fatal: string[]): LoginSpec {
  return {
    method,
    password: o.password,
    passwordPrompts: [escapeRegExp(o.passwordPrompt ?? 'password:')],
    incorrect: (o.incorrectPrompts ?? incorrect).map(escapeRegExp),
    fatal,
  };
}
