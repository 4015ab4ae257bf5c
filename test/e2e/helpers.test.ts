/** The test helpers fail closed: run as an unprivileged user, they report what they cannot see instead of passing it over. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRoot, pidAlive, processTexts } from '../helpers.js';

const helpers = fileURLToPath(new URL('../helpers.ts', import.meta.url));

/** Runs `body` (an ES module's text, with `h` the helpers) as the user nobody, and returns what it printed. */
function asNobody(body: string): string {
  const script = `const h = await import(${JSON.stringify(helpers)});\n${body}`;
  const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

test('as root, processTexts reads every process this one started, and pidAlive sees them', (t) => {
  t.true(isRoot, 'the suite runs as root');
  t.true(processTexts().length > 0);
  t.true(pidAlive(process.pid));
  t.false(pidAlive(2 ** 22 + 1), 'a pid above pid_max is not alive');
});

test('as another user: pidAlive counts a process it may not signal (EPERM) as alive', (t) => {
  t.is(asNobody('console.log(h.pidAlive(1), h.pidAlive(4194305));'), 'true false');
});

test('as another user: processTexts throws on a process it started but cannot read (a setuid sudo), naming it', (t) => {
  const out = asNobody(`
    const { spawn } = await import('node:child_process');
    const { statSync } = await import('node:fs');
    // sudo -S waits on its stdin for a password: a root process, ours, whose environment we cannot read.
    const sudo = spawn('sudo', ['-S', '-k', 'true'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await h.waitUntil(() => { try { return statSync('/proc/' + sudo.pid).uid === 0; } catch { return false; } }, 20, 'sudo runs as root');
    try { h.processTexts(); console.log('read everything'); } catch (e) { console.log(e.message); }
    // EOF on its stdin ends sudo even if it missed the signal (it may block SIGTERM while it sets up): else node waits on it.
    sudo.stdin.end(); sudo.kill();`);
  t.regex(out, /^cannot read \/proc\/\d+\/(cmdline|environ) \(EACCES\): the secrecy check would not see this process$/);
});
