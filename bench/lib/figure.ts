/** A figure's definition, what measuring it is given, and the result record written to latest.json. */
import type { Router } from '../../src/index.js';
import { Deadline, isStat } from './measure.js';
import type { Side } from './measure.js';
import type { FigureArgs } from './mitogen.js';

export interface Env {
  quick: boolean;
  /** A repetition count: `full` normally, `quick` with --quick. */
  reps(full: number, quick: number): number;
  /** A fresh time limit for one side of the figure (the figure's `seconds`, fewer with --quick). */
  deadline(): Deadline;
  /** Its seconds, for Mitogen's side (which keeps its own clock). */
  seconds: number;
  /** A new Router that run.ts shuts down after the figure whatever happens. */
  router(): Router;
  mitogen(args: FigureArgs): Promise<Side>;
}

export interface Measured {
  mitogenTs: Side; floor: Side; mitogen: Side; notes?: string[];
  /** A further yardstick a goal names (ssh2's: the OpenSSH client), measured in the same figure. */
  reference?: { label: string; side: Side };
  /**
   * Further floors measured in the same run, for reference only (no goal reads them): the raw
   * pipe beside the design floor, the hop candidates. `where`: shown in the table's floor cell
   * or in the notes.
   */
  moreFloors?: MoreFloor[];
}

export interface MoreFloor { label: string; side: Side; where: 'cell' | 'notes' }

/** What a goal is decided from: mitogen-ts's median, its ratios, and the reference's median (NaN if none). */
export interface MetArgs { value: number; vsFloor: number; vsMitogen: number; reference: number }

export interface FigureDef {
  id: string;
  title: string;
  goal: string;
  /** Seconds each side may take with a full run (loops stop early past it). */
  seconds: number;
  /**
   * Whether the goal is met, from mitogen-ts's median and its ratios. Only
   * called when every side in `needs` was measured; otherwise `met` is null.
   */
  needs: ('floor' | 'mitogen')[];
  met(x: MetArgs): boolean;
  measure(env: Env): Promise<Measured>;
}

/** One row of the results: every side, the ratios of the medians, and the goal's verdict. */
export interface FigureResult extends Measured {
  id: string;
  title: string;
  goal: string;
  /** mitogen-ts's median divided by the floor's and by Mitogen's (null where either is not measured). */
  ratios: { vsFloor: number | null; vsMitogen: number | null };
  /** null: mitogen-ts (or a side the goal needs) was not measured. */
  met: boolean | null;
  seconds: number;
}

export function result(def: FigureDef, m: Measured, seconds: number): FigureResult {
  const ratio = (a: Side, b: Side): number | null => (isStat(a) && isStat(b) ? a.median / b.median : null);
  const ratios = { vsFloor: ratio(m.mitogenTs, m.floor), vsMitogen: ratio(m.mitogenTs, m.mitogen) };
  let met: boolean | null = null;
  const ts = m.mitogenTs;
  if (isStat(ts) && def.needs.every((side) => isStat(m[side]))) {
    met = def.met({ value: ts.median, vsFloor: ratios.vsFloor ?? Number.NaN, vsMitogen: ratios.vsMitogen ?? Number.NaN, reference: referenceMedian(m) });
  }
  return { id: def.id, title: def.title, goal: def.goal, ...m, ratios, met, seconds };
}

/** The reference side's median, or NaN. */
export function referenceMedian(m: Measured): number {
  const r = m.reference?.side;
  return r && isStat(r) ? r.median : Number.NaN;
}
