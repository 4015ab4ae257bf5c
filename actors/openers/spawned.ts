/** The plainest opener: the spec's command, spawned with three pipes. */
import { lazyChildProcess } from '../../src/threads/lazy-builtins.js';
import type { SpawnSpec } from '../../src/threads/bootstrap-types.js';
import type { ChildLike, Opened } from './opener.js';

/** Spawns `argv` (the spec's, or a login's form of it); `detached` gives it a session of its own. */
export function spawnArgv(spec: SpawnSpec, argv: string[], detached: boolean): ChildLike {
  const [file, ...args] = argv;
  return lazyChildProcess().spawn(file!, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: spec.env ? { ...process.env, ...spec.env } : process.env,
    windowsHide: true,
    detached,
  });
}

export function openSpawned(spec: SpawnSpec): Opened {
  return { child: spawnArgv(spec, spec.argv, false), answerOn: spec.login?.answerOn ?? 'tty' };
}
