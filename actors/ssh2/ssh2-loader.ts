/**
 * The ssh2 package, for ssh connections a broker makes with the in-process
 * client: the master's installed copy, or (anywhere else) one brought by
 * module forwarding. Loaded once per broker, on the first such connection.
 */
import { createRequire } from 'node:module';
import type { BrokerInit } from '../../src/threads/bootstrap-types.js';
import { requireForwarded } from './forwarded-require.js';
import type { ModuleActor } from '../module-actor.js';
import type { Ssh2Loader } from './ssh2-session.js';

export function ssh2Loader(init: BrokerInit, modules: ModuleActor): Ssh2Loader {
  let loaded: ReturnType<Ssh2Loader> | undefined;
  const base = init.role === 'master' ? init.moduleBase : undefined;
  const load: Ssh2Loader = () => (loaded ??= base
    ? Promise.resolve().then(() => createRequire(base)('ssh2') as Awaited<ReturnType<Ssh2Loader>>)
    : requireForwarded('ssh2', (req) => modules.serve(req, { key: load, remote: false })) as ReturnType<Ssh2Loader>);
  return load;
}
