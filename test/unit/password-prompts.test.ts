/**
 * The password prompt table against the catalogs it was generated from: every
 * translation Linux-PAM and sudo have on this machine, fed to a real
 * LoginWatcher as the tool would print it, is answered with the password; su's
 * and doas's passwordPrompt/incorrectPrompts options and su's BSD and busybox
 * failure texts are recognised.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { LoginWatcher } from '../../actors/bootstrap/login-watcher.js';
import type { LoginSpec } from '../../src/threads/bootstrap-types.js';
import { PasswordError } from '../../src/index.js';
import { doas } from '../../transports/doas.js';
import { PASSWORD_WORDS, SUDO_PROMPTS } from '../../transports/password-prompts.js';
import { su } from '../../transports/su.js';
import { sudo } from '../../transports/sudo.js';

const common = { remoteName: 'prompt-test' };

/** Linux-PAM's "Password: " and sudo's "[sudo] password for %p: " in every locale installed here, read with gettext. */
function catalogs(): { pam: Record<string, string>; sudo: Record<string, string> } {
  const script = `
import gettext, glob, json
def catalog(domain):
    return {mo.split('/')[4]: gettext.GNUTranslations(open(mo, 'rb'))._catalog for mo in sorted(glob.glob(f'/usr/share/locale/*/LC_MESSAGES/{domain}.mo'))}
pam = {l: c['Password: '] for l, c in catalog('Linux-PAM').items() if c.get('Password: ')}
sudo = {l: v for l, c in catalog('sudoers').items() for k, v in c.items() if isinstance(k, str) and k.startswith('[sudo] password for')}
print(json.dumps({'pam': pam, 'sudo': sudo}))`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`reading the catalogs failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { pam: Record<string, string>; sudo: Record<string, string> };
}

/** What a watcher for `spec` does with `text` printed by the tool: answers (with what), fails (how), or waits. */
async function react(spec: LoginSpec, ...texts: string[]): Promise<{ answers: string[]; error?: Error }> {
  const out: { answers: string[]; error?: Error } = { answers: [] };
  const w = new LoginWatcher(spec, (a) => out.answers.push(a), (e) => { out.error = e; });
  for (const text of texts) {
    w.feed(text);
    await new Promise((r) => setImmediate(r)); // the answer goes out once the tool is ready (a resolved promise here)
  }
  return out;
}

const { pam, sudo: sudoCatalog } = catalogs();

test('the catalogs are here, and the generated table holds every one of their translations', (t) => {
  t.true(Object.keys(pam).length >= 50, `${Object.keys(pam).length} PAM locales installed`);
  t.true(Object.keys(sudoCatalog).length >= 25, `${Object.keys(sudoCatalog).length} sudo locales installed`);
  const words = new Set(PASSWORD_WORDS);
  const missing = Object.entries(pam).filter(([, v]) => !words.has(v.replace(/[\s:：៖]+$/u, '').trim().toLowerCase()));
  t.deepEqual(missing, [], 'PAM translations missing from PASSWORD_WORDS (run scripts/gen-password-prompts.py)');
  t.deepEqual(Object.entries(sudoCatalog).filter(([l, v]) => SUDO_PROMPTS[l] !== v), [], 'sudo translations missing from SUDO_PROMPTS');
});

test('sudo answers PAM\'s prompt in every installed locale, and sudo\'s own prompt in every locale sudo translates', async (t) => {
  const spec = sudo.login!({ username: 'bob', password: 'pw' }, common);
  const unanswered: string[] = [];
  for (const [lang, prompt] of Object.entries(pam)) {
    if ((await react(spec, prompt)).answers[0] !== 'pw\n') unanswered.push(`${lang}: ${JSON.stringify(prompt)}`);
  }
  for (const [lang, prompt] of Object.entries(sudoCatalog)) {
    const shown = prompt.replace('%p', 'mitouser1');
    if ((await react(spec, shown)).answers[0] !== 'pw\n') unanswered.push(`sudo ${lang}: ${JSON.stringify(shown)}`);
  }
  t.deepEqual(unanswered, []);
  // A prompt seen a second time means the password was wrong; a line that is no prompt is not answered.
  const twice = await react(spec, '[sudo] password for bob: ', '\r\n[sudo] password for bob: ');
  t.true(twice.error instanceof PasswordError && /asked again/.test(twice.error.message));
  t.deepEqual((await react(spec, 'Last login: yesterday\n$ ')).answers, []);
});

test('su and doas: passwordPrompt replaces the default prompt; incorrectPrompts replaces the failure texts', async (t) => {
  for (const transport of [su, doas]) {
    const plain = transport.login!({ password: 'pw' }, common);
    t.deepEqual((await react(plain, 'Password: ')).answers, ['pw\n'], `${transport.method}: default`);
    t.deepEqual((await react(plain, 'Kennwort: ')).answers, [], `${transport.method}: another prompt is not answered`);
    const german = transport.login!({ password: 'pw', passwordPrompt: 'Kennwort:', incorrectPrompts: ['falsches Kennwort'] }, common);
    t.deepEqual((await react(german, 'Kennwort: ')).answers, ['pw\n'], `${transport.method}: passwordPrompt`);
    const wrong = await react(german, 'Kennwort: ', '\nsu: falsches Kennwort\n');
    t.true(wrong.error instanceof PasswordError && /password is incorrect: su: falsches Kennwort/.test(wrong.error.message), String(wrong.error));
  }
});

test('su: the failure texts of util-linux, BSD and busybox su are each a wrong password', async (t) => {
  const spec = su.login!({ password: 'pw' }, common);
  for (const line of ['su: Authentication failure', 'su: Sorry', 'su: incorrect password', 'su: Permission denied']) {
    const r = await react(spec, 'Password: ', `\n${line}\n`);
    t.true(r.error instanceof PasswordError && r.error.message === `su password is incorrect: ${line}`, `${line}: ${String(r.error)}`);
  }
});
