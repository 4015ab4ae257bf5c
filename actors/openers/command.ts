/** The opener of a command (kind 'spawn'): on a PTY of ours when it logs in on one, else spawned with pipes. */
import { StreamError } from '../../src/wire/errors.js';
import type { SpawnSpec } from '../../src/threads/bootstrap-types.js';
import type { Opened } from './opener.js';
import { openPtyLogin } from './pty-login.js';
import { openSpawned } from './spawned.js';

export function openCommand(spec: SpawnSpec): Opened {
  if (!spec.argv[0]) throw new StreamError('cannot connect: empty argv');
  return spec.login && spec.login.tty !== 'none' ? openPtyLogin(spec, spec.login) : openSpawned(spec);
}
