/** Picks the opener a spec's kind asks for; a failure to start is a StreamError naming the command. */
import { StreamError } from '../../src/errors.js';
import type { BootstrapSpec } from '../../src/bootstrap-types.js';
import type { Ssh2Loader } from '../ssh2-session.js';
import { describeCommand } from './opener.js';
import type { Opened } from './opener.js';
import { openPtyLogin } from './pty-login.js';
import { openSpawned } from './spawned.js';
import { openSsh2 } from './ssh2.js';

export function openChild(spec: BootstrapSpec, loadSsh2: Ssh2Loader, onDebug: ((text: string) => void) | undefined): Opened {
  if (spec.kind === 'spawn' && !spec.argv[0]) throw new StreamError('cannot connect: empty argv');
  try {
    switch (spec.kind) {
      case 'spawn': return spec.login && spec.login.tty !== 'none' ? openPtyLogin(spec, spec.login) : openSpawned(spec);
      case 'ssh2': return openSsh2(spec, loadSsh2, onDebug);
      default: {
        const unknown: never = spec;
        throw new StreamError(`cannot connect: unknown kind ${JSON.stringify((unknown as { kind: unknown }).kind)}`);
      }
    }
  } catch (e) {
    if (e instanceof StreamError) throw e;
    throw new StreamError(`could not start ${describeCommand(spec)}: ${(e as Error).message}`);
  }
}
