/**
 * OpenSSH's client configuration read without an ssh binary, for hosts that
 * have none (where `ssh -G` is the exact answer, ssh-config.ts asks it). As
 * ssh_config(5) reads it: the command line first, then `-F FILE` alone or
 * ~/.ssh/config and /etc/ssh/ssh_config; the first value of a keyword wins
 * (IdentityFile and the other lists add up); `Host` patterns (`*`, `?`, `!`)
 * against the name asked for; `Match` with all, host, originalhost, user,
 * localuser (exec is refused: it would run commands); `Include` with globs,
 * relative to ~/.ssh (or /etc/ssh for the system file). The result has the
 * shape of `ssh -G`'s output.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { StreamError } from '../wire/errors.js';
import { readSshOptions } from './ssh-args.js';

/** Keyword → values, as `ssh -G` prints them (repeatable keywords keep every value, in order). */
export type SshSettings = Map<string, string[]>;

const LISTS = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv']);
const MAX_INCLUDE_DEPTH = 16;

/** ssh's built-in values for what callers read (ssh-config.ts has fallbacks for the rest). */
function builtIn(): SshSettings {
  return new Map([
    ['identityfile', ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa']],
  ]);
}

class Collector {
  readonly settings: SshSettings = new Map();
  constructor(readonly alias: string) {}
  set(key: string, value: string): void {
    const k = key.toLowerCase();
    const have = this.settings.get(k);
    if (!have) this.settings.set(k, [value]);
    else if (LISTS.has(k)) have.push(value);
  }
  get hostname(): string {
    return (this.settings.get('hostname')?.[0] ?? this.alias).replace(/%h/g, this.alias);
  }
  get user(): string {
    return this.settings.get('user')?.[0] ?? os.userInfo().username;
  }
  /** The finished map: defaults under what was set. */
  done(): SshSettings {
    const out = new Map(this.settings);
    for (const [k, v] of builtIn()) if (!out.has(k)) out.set(k, v);
    out.set('hostname', [this.hostname]);
    return out;
  }
}

/** The settings for `host` with the files, and with the command line alone (ssh's defaults under it). */
export function readSshConfigFiles(host: string, args: string[]): { withFiles: SshSettings; defaults: SshSettings } {
  const files = new Collector(host);
  const bare = new Collector(host);
  let configFile: string | undefined;
  for (const c of [files, bare]) configFile = applyCommandLine(c, args);
  if (configFile !== undefined) readFile(files, configFile, true, 0);
  else {
    readFile(files, join(os.homedir(), '.ssh', 'config'), false, 0);
    readFile(files, '/etc/ssh/ssh_config', false, 0, '/etc/ssh');
  }
  return { withFiles: files.done(), defaults: bare.done() };
}

function applyCommandLine(c: Collector, args: string[]): string | undefined {
  let file: string | undefined;
  for (const [flag, value] of readSshOptions(args).options) {
    if (flag === '-F') file = value!;
    else if (flag === '-l') c.set('user', value!);
    else if (flag === '-p') c.set('port', value!);
    else if (flag === '-i') c.set('identityfile', value!);
    else if (flag === '-J') c.set('proxyjump', value!);
    else if (flag === '-A') c.set('forwardagent', 'yes');
    else if (flag === '-a') c.set('forwardagent', 'no');
    else if (flag === '-C') c.set('compression', 'yes');
    else if (flag === '-o') {
      const [key, ...rest] = words(value!.replace(/^\s*(\w+)\s*=\s*/, '$1 '));
      if (key) c.set(key, rest.join(' '));
    }
  }
  return file;
}

/** A line's words: whitespace-separated, double quotes group, an `=` may follow the keyword. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  const text = line.replace(/^(\s*\w+)\s*=\s*/, '$1 ');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] ?? m[2]!);
  return out;
}

function readFile(c: Collector, file: string, required: boolean, depth: number, base = join(os.homedir(), '.ssh')): void {
  if (depth > MAX_INCLUDE_DEPTH) throw new StreamError(`ssh config: Include nested more than ${MAX_INCLUDE_DEPTH} deep at ${file}`);
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    if (required) throw new StreamError(`ssh config: cannot read ${file}: ${(e as Error).message}`);
    return;
  }
  let active = true;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [keyword, ...args] = words(line);
    const key = keyword!.toLowerCase();
    if (key === 'host') active = hostMatches(args, c.alias);
    else if (key === 'match') active = matchApplies(args, c, `${file}:${i + 1}`);
    else if (!active) return;
    else if (key === 'include') for (const pattern of args) for (const f of expandInclude(pattern, base)) readFile(c, f, false, depth + 1, base);
    else if (args.length) c.set(key, args.join(' '));
  });
}

function wildcard(pattern: string, name: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(name);
}

/** A pattern list (`a,b !c` or `a b`): any positive match, no negated one. */
function patternList(patterns: string[], name: string): boolean {
  let matched = false;
  for (const p of patterns.flatMap((x) => x.split(','))) {
    if (p.startsWith('!')) { if (wildcard(p.slice(1), name)) return false; } else if (wildcard(p, name)) matched = true;
  }
  return matched;
}

function hostMatches(patterns: string[], alias: string): boolean {
  return patternList(patterns, alias);
}

function matchApplies(args: string[], c: Collector, where: string): boolean {
  let all = true;
  for (let i = 0; i < args.length; i++) {
    let crit = args[i]!.toLowerCase();
    const negate = crit.startsWith('!');
    if (negate) crit = crit.slice(1);
    let ok: boolean;
    if (crit === 'all') ok = true;
    else if (crit === 'canonical' || crit === 'final') ok = false;
    else {
      const value = args[++i];
      if (value === undefined) throw new StreamError(`ssh config ${where}: Match ${crit} needs an argument`);
      const pats = value.split(',');
      if (crit === 'host') ok = patternList(pats, c.hostname);
      else if (crit === 'originalhost') ok = patternList(pats, c.alias);
      else if (crit === 'user') ok = patternList(pats, c.user);
      else if (crit === 'localuser') ok = patternList(pats, os.userInfo().username);
      else throw new StreamError(`ssh config ${where}: Match ${crit} is not supported without an ssh binary`);
    }
    if (negate ? ok : !ok) all = false;
  }
  return all;
}

/** An Include argument: ~ and paths relative to `base`, a glob in the file name. */
function expandInclude(pattern: string, base: string): string[] {
  const p = pattern.startsWith('~/') ? join(os.homedir(), pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(base, pattern);
  if (!/[*?]/.test(basename(p))) return existsSync(p) ? [p] : [];
  const dir = dirname(p);
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.filter((n) => wildcard(basename(p), n)).sort().map((n) => join(dir, n));
}
