/** The opener of ssh with the in-process client: a session that behaves like a spawned ssh. */
import type { ConnectSpec, Ssh2Spec } from '../../src/bootstrap-types.js';
import { Ssh2Session } from '../ssh2-session.js';
import type { Ssh2Loader } from '../ssh2-session.js';
import type { Opened } from './opener.js';

export function openSsh2(spec: ConnectSpec, ssh2: Ssh2Spec, loadSsh2: Ssh2Loader, onDebug: ((text: string) => void) | undefined): Opened {
  // The remote command is argv's last word, as ssh would be given it.
  return { child: new Ssh2Session(ssh2, spec.argv[spec.argv.length - 1]!, loadSsh2, onDebug), answerOn: spec.login?.answerOn ?? 'tty' };
}
