/** Mitogen's side of a figure: runs bench/mitogen/bench_mitogen.py in Debian's Python and reads its JSON line. */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { marker, stat } from './measure.js';
import type { Side } from './measure.js';

const script = fileURLToPath(new URL('../mitogen/bench_mitogen.py', import.meta.url));
// Debian's interpreter, not whatever `python3` is first on PATH (pyenv shims lack python3-mitogen).
const python = '/usr/bin/python3';

/** What a figure tells the script: the same repetition count as mitogen-ts's side, plus figure-specific values. */
export interface FigureArgs { reps: number; [extra: string]: unknown }
/** ... and the same time limit. */
export type MitogenArgs = FigureArgs & { seconds: number };

interface Output { samples?: number[]; unit?: string; error?: string; [info: string]: unknown }

function runScript(args: string[], timeoutMs: number): Promise<{ out: Output | undefined; why: string }> {
  return new Promise((resolve) => {
    // -I: isolated from the caller's environment and working directory, as a fresh master would be.
    execFile(python, ['-I', script, ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', cwd: os.tmpdir(), maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        // The JSON line is printed before the broker shuts down, so a hang in shutdown still leaves a result.
        const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        let out: Output | undefined;
        try { out = line ? (JSON.parse(line) as Output) : undefined; } catch { out = undefined; }
        const why = (stderr.trim().split('\n').pop() || err?.message || 'no output').trim();
        resolve({ out, why });
      });
  });
}

/** Runs one figure in Mitogen: a Stat from its samples, or an error marker saying why not. */
export async function mitogen(figure: string, args: MitogenArgs): Promise<Side> {
  // The script stops repeating at args.seconds; the margin covers Python's start, the broker and its shutdown.
  const { out, why } = await runScript([figure, JSON.stringify(args)], (args.seconds + 60) * 1000);
  if (!out) return marker('error', `bench_mitogen.py ${figure}: ${why}`);
  if (out.error !== undefined) return marker('error', out.error);
  if (!Array.isArray(out.samples) || typeof out.unit !== 'string') return marker('error', `bench_mitogen.py ${figure}: malformed output`);
  return stat(out.samples, out.unit);
}

/** Python's and Mitogen's versions, as the script sees them. */
export async function mitogenVersions(): Promise<{ python: string; mitogen: string }> {
  const { out, why } = await runScript(['versions', '{}'], 30_000);
  return {
    python: typeof out?.python === 'string' ? out.python : `unknown (${why})`,
    mitogen: typeof out?.mitogen === 'string' ? out.mitogen : `not available (${why})`,
  };
}
