/**
 * Builtins loaded when first used (by either thread). A child's broker needs
 * these only to start children of its own (spawning, code-cache keys, ssh2's
 * known_hosts, `ssh -G`), and loading them at its start cost ~3 ms of the
 * boot's critical path and ~1 MiB of its memory (node:crypto 2.4 ms and 0.8
 * MiB, node:child_process 0.65 ms and 0.3 MiB, measured in a bare worker).
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
type ChildProcess = typeof import('node:child_process');

const load = createRequire('/');
let crypto: Crypto | undefined;
let childProcess: ChildProcess | undefined;

export function lazyCrypto(): Crypto {
  return (crypto ??= load('node:crypto') as Crypto);
}

export function lazyChildProcess(): ChildProcess {
  return (childProcess ??= load('node:child_process') as ChildProcess);
}
