/**
 * The fuzzers' long form: ava on the frame and router fuzz files with
 * MT_FUZZ_RUNS raised. ava's own timeout is per test, so it is lifted; the
 * whole run is bounded by `seconds` instead (the ava process is killed).
 */
import { spawn } from 'node:child_process';

export interface FuzzFigures {
  ok: boolean;
  runs: number;
  frameCases: number;
  routerCases: number;
  routerFrames: number;
  seconds: number;
  output: string;
}

export function runFuzz(runs: number, seconds: number): Promise<FuzzFigures> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const ava = spawn('npx', ['ava', '--verbose', `--timeout=${seconds + 60}s`, 'test/unit/fuzz-frames.test.ts', 'test/e2e/fuzz-router.test.ts'], {
      env: { ...process.env, MT_FUZZ_RUNS: String(runs) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the bound can end ava and its workers together
    });
    let output = '';
    ava.stdout.on('data', (d: Buffer) => { output += d; });
    ava.stderr.on('data', (d: Buffer) => { output += d; });
    const timer = setTimeout(() => { try { process.kill(-ava.pid!, 'SIGKILL'); } catch { /* gone */ } }, seconds * 1000);
    ava.on('close', (code) => {
      clearTimeout(timer);
      const router = /(\d+) cases, (\d+) frames in/.exec(output);
      resolve({
        ok: code === 0,
        runs,
        // fuzz-frames.test.ts: RUNS + RUNS + max(200, RUNS / 10) cases.
        frameCases: code === 0 ? 2 * runs + Math.max(200, runs / 10) : 0,
        routerCases: router ? Number(router[1]) : 0,
        routerFrames: router ? Number(router[2]) : 0,
        seconds: (performance.now() - t0) / 1000,
        output,
      });
    });
  });
}
