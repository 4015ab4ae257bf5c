/**
 * The command line on a terminal: run in a real PTY (node-pty), it redraws a
 * progress line in place (`\r\x1b[2K`) with the done count rising, prints
 * host output above it and ends with the summary table; --ask-become-pass
 * prompts once on the terminal without echo; ^C still ends with the summary.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pty from 'node-pty';
import { deadAddress } from '../testbed.js';
import { cli, login } from '../fixtures/cli-run.js';

const ERASE = '\r\x1b[2K';

/** The environment without a become password: the PTY tests must not pick one up from the caller. */
function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.MITOGEN_BECOME_PASSWORD;
  return e;
}

interface Session { output: () => string; exit: Promise<number>; write(s: string): void; when(text: string): Promise<void> }

function inPty(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Session {
  const p = pty.spawn(process.execPath, [cli, ...args], { cols: 200, rows: 50, env: env as Record<string, string> });
  let output = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  p.onData((d) => {
    output += d;
    for (const w of waiting.filter((x) => output.includes(x.text))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  });
  const exit = new Promise<number>((resolve) => p.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    output: () => output,
    exit,
    write: (s) => p.write(s),
    // Resolves when the text has appeared, rejects if the process ends first: a wait bounded by the process.
    when: (text) => output.includes(text) ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      waiting.push({ text, resolve });
      void exit.then(() => reject(new Error(`exited before printing ${JSON.stringify(text)}; output: ${JSON.stringify(output)}`)));
    }),
  };
}

test.serial('on a terminal: a progress line redrawn in place, done counts rising to the total, output above it, then the summary table', async (t) => {
  const dead = deadAddress();
  const s = inPty(['exec', 'h26', 'h27', 'h28', dead, ...login(), '-t', '20', '--', 'sh', '-c', 'uname -n; test "$(uname -n)" != h27']);
  const code = await s.exit;
  const out = s.output();
  t.is(code, 2, out);
  t.true(out.includes(ERASE), out);
  // Each redraw: erase the line, then the progress. The done count never falls and ends at the total.
  const draws = [...out.matchAll(/\r\x1b\[2K\[(\d+)\/4\] done, (\d+) failed, [\d.]+ s/g)].map((m) => ({ done: Number(m[1]), failed: Number(m[2]) }));
  t.true(draws.length >= 5, JSON.stringify(draws));
  t.is(draws[0]!.done, 0);
  t.deepEqual(draws.at(-1), { done: 4, failed: 2 });
  const dones = [...new Set(draws.map((d) => d.done))];
  t.deepEqual(dones, [0, 1, 2, 3, 4], 'every finished host redraws the count');
  for (let i = 1; i < draws.length; i++) t.true(draws[i]!.done >= draws[i - 1]!.done && draws[i]!.failed >= draws[i - 1]!.failed);
  // What is left on the screen, line by line: the terminal turns \n into \r\n; an erase clears to the line's start.
  const screen = out.replaceAll('\r\n', '\n').split('\n').map((l) => l.split(ERASE).at(-1)!);
  for (const h of ['h26', 'h27', 'h28']) t.true(screen.includes(`${h.padEnd(dead.length)} | ${h}`), h);
  // The progress line is erased before the table, which follows the host lines; the totals come last.
  const head = screen.findIndex((l) => /^HOST +STATUS +EXIT +TIME$/.test(l));
  t.true(head > 0, JSON.stringify(screen));
  const rows = screen.slice(head + 1, head + 5).map((l) => l.split(/ {2,}/).slice(0, 3));
  t.deepEqual(rows, [['h26', 'ok', '0'], ['h27', 'failed', '1'], ['h28', 'ok', '0'], [dead, 'unreachable', '-']]);
  t.regex(screen[head + 5]!, new RegExp(`^2 ok, 2 failed, [\\d.]+ s: h27 ${dead.replaceAll('.', '\\.')}$`));
  t.false(screen.slice(head).some((l) => /\] done, /.test(l)), 'no progress line left after the summary');
});

test.serial('--ask-become-pass: asked once on the terminal, not echoed, and used for every host\'s sudo', async (t) => {
  const s = inPty(['exec', 'h29', 'h30', ...login(), '--sudo=mitouser2', '--ask-become-pass', '-t', '30', '--', 'echo "$(id -un)@$(uname -n)"'], env());
  await s.when('become password: ');
  s.write('mitouser1_password\r');
  const code = await s.exit;
  const out = s.output();
  t.is(code, 0, out);
  t.false(out.includes('mitouser1_password'), 'the password is not echoed');
  t.is(out.split('become password: ').length, 2, 'one prompt for both hosts');
  const screen = out.replaceAll('\r\n', '\n').split('\n').map((l) => l.split(ERASE).at(-1)!);
  t.true(screen.includes('h29 | mitouser2@h29'), out);
  t.true(screen.includes('h30 | mitouser2@h30'), out);
});

test('^C on a terminal gives up the hosts still running, yet prints the summary and writes --failed-file for a rerun', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mitogen-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const failed = join(dir, 'failed');
  // h40's command would run for ten minutes; the test interrupts it once h39 has finished and h40 has started.
  const s = inPty(['exec', 'h39', 'h40', ...login(), '--failed-file', failed, '--', 'sh', '-c', 'echo started; [ "$(uname -n)" = h39 ] || exec sleep 600'], env());
  await s.when(`h40 | started`);
  await s.when('[1/2] done');
  s.write('\x03');
  const code = await s.exit;
  const out = s.output();
  t.is(code, 2, out);
  const screen = out.replaceAll('\r\n', '\n').split('\n').map((l) => l.split(ERASE).at(-1)!);
  const head = screen.findIndex((l) => /^HOST +STATUS +EXIT +TIME$/.test(l));
  t.deepEqual(screen.slice(head + 1, head + 3).map((l) => l.split(/ {2,}/).slice(0, 2)), [['h39', 'ok'], ['h40', 'error']], out);
  t.is(readFileSync(failed, 'utf8'), 'h40\n');
});

test('--ask-become-pass without a terminal (setsid: no controlling tty) is a usage error pointing at MITOGEN_BECOME_PASSWORD, before any login', async (t) => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile('setsid', ['-w', process.execPath, cli, 'exec', 'h1', '--sudo', '-K', '--', 'true'], { env: env(), timeout: 60_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }));
  });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /^mitogen-ts: --ask-become-pass needs a terminal \(.*\); set MITOGEN_BECOME_PASSWORD instead\n/);
  t.notRegex(r.stderr, /^HOST +STATUS/m, 'no target was tried');
});
