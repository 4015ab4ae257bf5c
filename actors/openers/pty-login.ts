/**
 * The opener of a method that logs in on a terminal (sudo, su, doas, ssh
 * with a password): the command runs in a session of its own whose
 * controlling terminal is a PTY of ours, so its prompts can be answered.
 */
import { StreamError } from '../../src/wire/errors.js';
import type { LoginSpec, SpawnSpec } from '../../src/threads/bootstrap-types.js';
import { closeSlave, openPty, readPty, withControllingTty } from '../bootstrap/login-watcher.js';
import type { PtyPair } from '../bootstrap/login-watcher.js';
import type { Opened } from './opener.js';
import { spawnArgv } from './spawned.js';

export function openPtyLogin(spec: SpawnSpec, login: LoginSpec): Opened {
  let pty: PtyPair;
  let argv: string[];
  try {
    pty = openPty(spec.ptyModule);
    argv = withControllingTty(spec.argv, pty.path);
  } catch (e) {
    if (!login.pipeArgv) throw new StreamError(`${spec.method} needs a terminal to type the password into: ${(e as Error).message}`);
    // No PTY here: the method's pipe form (sudo -S; su as it is) prompts on stderr, reads stdin.
    return { child: spawnArgv(spec, login.pipeArgv, false), answerOn: 'stdin' };
  }
  try {
    return { child: spawnArgv(spec, argv, true), pty, answerOn: login.answerOn ?? 'tty' };
  } catch (e) {
    closeSlave(pty);
    readPty(pty, () => {}).close();
    throw e;
  } finally {
    // The child holds the slave end now (or never will): ours would keep the terminal open after it exits.
    closeSlave(pty);
  }
}
