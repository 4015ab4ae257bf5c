/** The opener of ssh with the in-process client: a session that behaves like a spawned ssh. */
import type { Ssh2ConnectSpec } from '../../src/threads/bootstrap-types.js';
import { Ssh2Session } from '../ssh2/ssh2-session.js';
import type { Ssh2Loader } from '../ssh2/ssh2-session.js';
import type { Opened } from './opener.js';

export function openSsh2(spec: Ssh2ConnectSpec, loadSsh2: Ssh2Loader, onDebug: ((text: string) => void) | undefined): Opened {
  return { child: new Ssh2Session(spec.ssh2, loadSsh2, onDebug), answerOn: spec.login?.answerOn ?? 'tty' };
}
