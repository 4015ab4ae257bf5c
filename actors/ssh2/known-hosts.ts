/**
 * OpenSSH's known_hosts, read the way ssh reads it, for the in-process ssh2
 * client: host patterns (comma lists, `*` and `?` wildcards, `!` negation,
 * `[host]:port` for ports other than 22), hashed entries (`|1|salt|hash`,
 * HMAC-SHA1 of the host name with the salt), `@revoked` keys; comments and
 * `@cert-authority` lines are skipped (no certificates here).
 */
import { lazyCrypto } from '../../src/threads/lazy-builtins.js';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface HostKey { type: string; blob: Buffer }
interface Entry { marker?: string; patterns: string; type: string; key: string; file: string; line: number }

export type HostKeyVerdict =
  | { status: 'known'; where: string }
  | { status: 'revoked'; where: string }
  /** The host is known with another key of this type: ssh's "REMOTE HOST IDENTIFICATION HAS CHANGED". */
  | { status: 'changed'; where: string }
  | { status: 'unknown' };

/** The name ssh looks a host up by: `host`, or `[host]:port` off port 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** A key blob's algorithm name: the first string inside it (RFC 4253 6.6). */
export function keyType(blob: Buffer): string {
  const n = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + n).toString('latin1');
}

function parse(file: string): Entry[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  const out: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    const marker = f[0]!.startsWith('@') ? f.shift() : undefined;
    if (f.length < 3) return;
    out.push({ marker, patterns: f[0]!, type: f[1]!, key: f[2]!, file, line: i + 1 });
  });
  return out;
}

function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  const [, kind, salt, hash] = field.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return lazyCrypto().createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** Whether an entry's host field names `name` (OpenSSH: a negated match wins over any other). */
export function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) { if (wildcard(p.slice(1), name)) return false; } else if (wildcard(p, name)) matched = true;
  }
  return matched;
}

/** What the files say about `key` for `name` (see hostKeyName). */
export function checkHostKey(files: string[], name: string, key: HostKey): HostKeyVerdict {
  const b64 = key.blob.toString('base64');
  let changed: Entry | undefined;
  let known: Entry | undefined;
  for (const file of files) {
    for (const e of parse(file)) {
      if (e.marker === '@cert-authority' || !hostMatches(e.patterns, name)) continue;
      if (e.marker === '@revoked') {
        if (e.key === b64) return { status: 'revoked', where: `${e.file}:${e.line}` };
        continue;
      }
      if (e.type !== key.type) continue;
      if (e.key === b64) known ??= e;
      else changed ??= e;
    }
  }
  if (known) return { status: 'known', where: `${known.file}:${known.line}` };
  if (changed) return { status: 'changed', where: `${changed.file}:${changed.line}` };
  return { status: 'unknown' };
}

/** Adds `name`'s key to `file`, as ssh does under StrictHostKeyChecking=accept-new. */
export function addHostKey(file: string, name: string, key: HostKey): void {
  if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const sep = text && !text.endsWith('\n') ? '\n' : '';
  appendFileSync(file, `${sep}${name} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
}
