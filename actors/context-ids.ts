/**
 * Where a broker gets ids for the children it starts: the master hands them
 * out itself (and leases blocks to others, ALLOCATE_ID); any other context
 * asks the master for a block and spends it.
 */
import { MitogenError } from '../src/wire/errors.js';
import { ALLOCATE_ID } from '../src/wire/handles.js';
import { unwrap } from '../src/wire/outcome.js';
import { IdAllocator } from './id-allocator.js';
import type { Lease } from './id-allocator.js';
import type { PendingRequests } from './pending-requests.js';

export class ContextIds {
  readonly #allocator?: IdAllocator;
  #lease: [number, number] = [0, 0];
  readonly #requests: PendingRequests;

  constructor(isMaster: boolean, requests: PendingRequests) {
    if (isMaster) this.#allocator = new IdAllocator();
    this.#requests = requests;
  }

  async next(): Promise<number> {
    if (this.#allocator) return this.#allocator.allocate();
    if (this.#lease[1] === 0) {
      const lease = await this.#requests.request(0, ALLOCATE_ID, null) as Lease;
      const { start, count } = unwrap(lease, (why) => new MitogenError(`the master refused to allocate context ids${why ? `: ${why}` : ''}`));
      this.#lease = [start, count];
    }
    const id = this.#lease[0]++;
    this.#lease[1]--;
    return id;
  }

  /** ALLOCATE_ID from a context below (through `subtree`); undefined: this is not the master, which alone leases. */
  leaseBlock(subtree: object, name: string): Lease | undefined {
    return this.#allocator?.lease(subtree, name);
  }
}
