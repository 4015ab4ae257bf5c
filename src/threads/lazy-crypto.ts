/**
 * node:crypto, loaded when first used (by either thread). A child's broker needs it only to
 * start children of its own (code-cache keys, ssh2's known_hosts), and
 * loading it costs ~2.4 ms of a worker's start, on the boot's critical path.
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;

export function lazyCrypto(): Crypto {
  return (crypto ??= createRequire('/')('node:crypto') as Crypto);
}
