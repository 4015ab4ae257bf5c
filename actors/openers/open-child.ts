/** Picks the opener a spec's kind asks for; a failure to start is a StreamError naming the command. */
import { StreamError } from '../../src/errors.js';
import type { ConnectSpec } from '../../src/bootstrap-types.js';
import type { Ssh2Loader } from '../ssh2-session.js';
import type { Opened } from './opener.js';
import { openPtyLogin } from './pty-login.js';
import { openSpawned } from './spawned.js';
import { openSsh2 } from './ssh2.js';

export function openChild(spec: ConnectSpec, loadSsh2: Ssh2Loader, onDebug: ((text: string) => void) | undefined): Opened {
  if (!spec.argv[0]) throw new StreamError('cannot connect: empty argv');
  try {
    if (spec.kind === 'ssh2') {
      if (!spec.ssh2) throw new StreamError(`${spec.method}: no ssh2 settings`);
      return openSsh2(spec, spec.ssh2, loadSsh2, onDebug);
    }
    // A fork (kind 'fork', no argv: refused above) is started by its host's broker (BrokerCore.connect), never through here.
    return spec.login && spec.login.tty !== 'none' ? openPtyLogin(spec, spec.login) : openSpawned(spec);
  } catch (e) {
    if (e instanceof StreamError) throw e;
    throw new StreamError(`could not start ${spec.argv[0]}: ${(e as Error).message}`);
  }
}
