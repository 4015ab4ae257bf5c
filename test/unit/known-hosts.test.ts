/** known_hosts as the ssh2 client reads it, checked against what OpenSSH's own ssh-keygen writes and finds. */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { addHostKey, checkHostKey, hostKeyName, hostMatches, keyType } from '../../actors/ssh2/known-hosts.js';
import type { HostKey } from '../../actors/ssh2/known-hosts.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-kh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real key made by ssh-keygen, as the blob a server sends. */
function makeKey(dir: string, name: string, type = 'ed25519'): HostKey & { line: string } {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
  const line = readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
  const [kt, b64] = line.split(' ') as [string, string];
  return { type: kt, blob: Buffer.from(b64, 'base64'), line: `${kt} ${b64}` };
}

test('plain, wildcard, negated and [host]:port entries', (t) => {
  t.true(hostMatches('a.example,10.0.0.1', '10.0.0.1'));
  t.true(hostMatches('*.example', 'x.example'));
  t.false(hostMatches('*.example,!bad.example', 'bad.example'));
  t.true(hostMatches('h?', 'h1'));
  t.false(hostMatches('h?', 'h10'));
  t.is(hostKeyName('10.0.0.1', 22), '10.0.0.1');
  t.is(hostKeyName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  t.true(hostMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222'));
  t.false(hostMatches('10.0.0.1', '[10.0.0.1]:2222'));
});

test('hashed entries written by ssh-keygen -H are found; a changed key of the same type is told apart from an unknown host', (t) => {
  const dir = tmp(t);
  const k1 = makeKey(dir, 'k1');
  const k2 = makeKey(dir, 'k2');
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `# a comment\nh1.example ${k1.line}\n[h2.example]:2222 ${k1.line}\n`);
  t.is(spawnSync('ssh-keygen', ['-H', '-f', file]).status, 0);
  t.true(readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).every((l) => l.startsWith('|1|')), 'ssh-keygen hashed every entry');
  t.is(checkHostKey([file], 'h1.example', k1).status, 'known');
  t.is(checkHostKey([file], '[h2.example]:2222', k1).status, 'known');
  t.is(checkHostKey([file], 'h2.example', k1).status, 'unknown');
  t.is(checkHostKey([file], 'h1.example', k2).status, 'changed');
  t.is(checkHostKey([file], 'h3.example', k2).status, 'unknown');
  // A hashed field is HMAC-SHA1 of the name keyed with the salt.
  const salt = randomBytes(20);
  t.true(hostMatches(`|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('x').digest('base64')}`, 'x'));
});

test('a key of another type is not a change; @revoked refuses; what addHostKey writes ssh-keygen -F finds', (t) => {
  const dir = tmp(t);
  const ed = makeKey(dir, 'ed');
  const ec = makeKey(dir, 'ec', 'ecdsa');
  t.is(keyType(ec.blob), 'ecdsa-sha2-nistp256');
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `h ${ed.line}\n@revoked * ${ec.line}\n`);
  t.is(checkHostKey([file], 'h', ed).status, 'known');
  t.is(checkHostKey([file], 'h', ec).status, 'revoked');
  // Without the @revoked line: a host known only by its ed25519 key meets an ecdsa key as a new key type, not a change.
  const edOnly = join(dir, 'ed_only');
  writeFileSync(edOnly, `h ${ed.line}\n`);
  t.is(checkHostKey([edOnly], 'h', ec).status, 'unknown');
  const fresh = join(dir, 'sub', 'known_hosts');
  addHostKey(fresh, '[10.1.2.3]:2200', ed);
  t.is(checkHostKey([fresh], '[10.1.2.3]:2200', ed).status, 'known');
  const found = spawnSync('ssh-keygen', ['-F', '[10.1.2.3]:2200', '-f', fresh], { encoding: 'utf8' });
  t.is(found.status, 0);
  t.true(found.stdout.includes(ed.line));
  t.is(checkHostKey([join(dir, 'missing')], 'h', ed).status, 'unknown');
});
