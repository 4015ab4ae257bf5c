/** The results: latest.json's shape and the Markdown table made from it. */
import type { FigureResult } from './figure.js';
import type { Side } from './measure.js';

export interface Meta {
  date: string;
  machine: { cpu: string; cores: number; memGiB: number };
  node: string;
  python: string;
  mitogen: string;
  quick: boolean;
  /** Wall-clock seconds of the whole run. */
  seconds: number;
}

export interface Results extends Meta { schema: 1; figures: FigureResult[] }

/** About three significant digits, so µs, ms and calls/s all read naturally. */
function num(x: number): string {
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

export function cell(s: Side): string {
  if (s === null) return '—';
  if (s.kind === 'stat') return `${num(s.median)} ${s.unit} (${num(s.min)}–${num(s.max)})`;
  if (s.kind === 'not built') return 'not built';
  if (s.kind === 'skipped') return `skipped: ${s.reason}`;
  return `error: ${s.reason.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 200)}`;
}

const ratio = (r: number | null): string => (r === null ? '—' : `${r.toFixed(2)}x`);
const verdict = (met: boolean | null): string => (met === null ? '—' : met ? 'met' : 'missed');

export function markdown(r: Results): string {
  const m = r.machine;
  const head = [
    `Run ${r.date}${r.quick ? ' (--quick: fewer repetitions)' : ''}, ${r.seconds.toFixed(0)} s.`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB. Node ${r.node}. Python ${r.python}, Mitogen ${r.mitogen}.`,
    'Each cell: median (min–max) of the repetitions. Ratios: mitogen-ts\'s median ÷ the floor\'s and ÷ Mitogen\'s.',
    '',
    '| figure | mitogen-ts | floor | Mitogen | ÷ floor | ÷ Mitogen | goal | |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const floorCell = (f: FigureResult): string => [cell(f.floor), ...(f.moreFloors ?? []).filter((x) => x.where === 'cell').map((x) => `${x.label}: ${cell(x.side)}`)].join('; ');
  const rows = r.figures.map((f) => `| ${f.title} | ${cell(f.mitogenTs)} | ${floorCell(f)} | ${cell(f.mitogen)} | ${ratio(f.ratios.vsFloor)} | ${ratio(f.ratios.vsMitogen)} | ${f.goal} | ${verdict(f.met)} |`);
  const notes = r.figures.flatMap((f) => [...(f.notes ?? []), ...(f.reference ? [`${f.id}: the goal's reference, ${f.reference.label}: ${cell(f.reference.side)}.`] : []),
    ...(f.moreFloors ?? []).filter((x) => x.where === 'notes').map((x) => `${f.id}: for reference, ${x.label}: ${cell(x.side)}.`)]).map((n) => `- ${n}`);
  return `${[...head, ...rows].join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}
