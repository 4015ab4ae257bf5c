/**
 * The master's context ids: one at a time for its own children, blocks of
 * ID_BLOCK_SIZE for contexts that start children of their own (ALLOCATE_ID),
 * as Mitogen's IdAllocator. Ids travel as u32 in every frame header, so the
 * space ends at 2^32 - 1: past it an id would wrap onto the master's (0) or a
 * living context's, and a child could then be given another's identity. The
 * allocator refuses instead, and bounds what each of the master's children
 * may take for its whole subtree (its requests and its descendants' all
 * arrive on its stream), so a child that asks in a loop, or starts children
 * that do, cannot use up the space for everyone else.
 */
import { ID_BLOCK_SIZE } from '../src/wire/handles.js';
import { fail, ok } from '../src/wire/outcome.js';
import type { Outcome } from '../src/wire/outcome.js';

/** The largest id a frame header can carry. */
export const MAX_CONTEXT_ID = 0xffff_ffff;
/** Blocks one child's subtree may be leased: a million ids, far past any real tree. */
export const DEFAULT_BLOCKS_PER_CONTEXT = 1000;

/** A block of ids, `start … start + count - 1`, or why not: also ALLOCATE_ID's reply, as it is. */
export type Lease = Outcome<{ start: number; count: number }>;

export class IdAllocator {
  #next = 1;
  /** Keyed by the master's stream to that child: gone with the stream. */
  readonly #blocksTaken = new WeakMap<object, number>();

  readonly #max: number;
  readonly #blockSize: number;
  readonly #blocksPerContext: number;

  constructor(max = MAX_CONTEXT_ID, blockSize = ID_BLOCK_SIZE, blocksPerContext = DEFAULT_BLOCKS_PER_CONTEXT) {
    this.#max = max;
    this.#blockSize = blockSize;
    this.#blocksPerContext = blocksPerContext;
  }

  /** One id for a child the master starts itself. */
  allocate(): number {
    if (this.#next > this.#max) throw new Error(`context ids exhausted: all ${this.#max} have been handed out`);
    return this.#next++;
  }

  /** A block for a request that arrived through `subtree` (named `name`), or why it is refused. */
  lease(subtree: object, name: string): Lease {
    const taken = this.#blocksTaken.get(subtree) ?? 0;
    if (taken >= this.#blocksPerContext) {
      return fail(`${name} and its descendants have already been leased ${taken} blocks of ${this.#blockSize} ids`);
    }
    if (this.#next + this.#blockSize - 1 > this.#max) {
      return fail(`context ids exhausted: fewer than ${this.#blockSize} of ${this.#max} remain`);
    }
    const start = this.#next;
    this.#next += this.#blockSize;
    this.#blocksTaken.set(subtree, taken + 1);
    return ok({ start, count: this.#blockSize });
  }
}
