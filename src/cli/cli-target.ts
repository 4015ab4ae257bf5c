/**
 * The command line's target syntax: `[user@]host[:port]`, with an IPv6
 * address in brackets when a port follows (`[fe80::1]:2222`), or bare
 * (`user@fe80::1`, no port). A plain name is left to ssh, which resolves
 * ssh-config aliases itself.
 */

/** A target the command line could not read; `text` is the bad target as given. */
export class TargetSyntaxError extends Error {
  constructor(readonly text: string, why: string) {
    super(`bad target ${JSON.stringify(text)}: ${why}`);
    this.name = 'TargetSyntaxError';
  }
}

export interface SshTarget {
  kind: 'ssh';
  /** As written on the command line (or in the hosts file): what output and --failed-file show. */
  text: string;
  hostname: string;
  username?: string;
  port?: number;
}

export interface DockerTarget { kind: 'docker'; text: string; container: string }
export interface LocalTarget { kind: 'local'; text: string }
export type Target = SshTarget | DockerTarget | LocalTarget;

function port(text: string, p: string): number {
  // Digits only: Number() would take '0x16', ' 22' or '1e3'.
  if (!/^\d{1,5}$/.test(p)) throw new TargetSyntaxError(text, `port ${JSON.stringify(p)} is not a number`);
  const n = Number(p);
  if (n < 1 || n > 65535) throw new TargetSyntaxError(text, `port ${n} is outside 1-65535`);
  return n;
}

function hostname(text: string, h: string, v6: boolean): string {
  if (!h) throw new TargetSyntaxError(text, 'no host name');
  // ssh would read a leading '-' as an option: a hosts file must not be able to inject one.
  if (h.startsWith('-')) throw new TargetSyntaxError(text, 'a host name cannot start with "-"');
  if (/[\s/@[\]]/.test(h)) throw new TargetSyntaxError(text, `${JSON.stringify(h)} is not a host name`);
  if (v6 && !/^[0-9A-Fa-f:.]+(%[\w.-]+)?$/.test(h)) throw new TargetSyntaxError(text, `${JSON.stringify(h)} is not an IPv6 address`);
  return h;
}

/** Reads one ssh target. */
export function parseTarget(text: string): SshTarget {
  let rest = text;
  let username: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    username = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!username) throw new TargetSyntaxError(text, 'no user name before "@"');
    if (username.startsWith('-') || /[\s:/@]/.test(username)) throw new TargetSyntaxError(text, `${JSON.stringify(username)} is not a user name`);
  }
  let host: string;
  let p: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new TargetSyntaxError(text, 'no "]" after "["');
    host = hostname(text, rest.slice(1, close), true);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new TargetSyntaxError(text, `${JSON.stringify(after)} after "]" (expected ":PORT")`);
      p = port(text, after.slice(1));
    }
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1) host = hostname(text, rest, true); // a bare IPv6 address: no port without brackets
    else if (colons === 1) {
      const c = rest.indexOf(':');
      host = hostname(text, rest.slice(0, c), false);
      p = port(text, rest.slice(c + 1));
    } else host = hostname(text, rest, false);
  }
  return { kind: 'ssh', text, hostname: host, ...(username !== undefined ? { username } : {}), ...(p !== undefined ? { port: p } : {}) };
}

/** Splits a -H value: hosts separated by commas or white space. */
export function splitHostList(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/** Reads a hosts file: one target a line, `#` starts a comment. */
export function parseHostsFile(content: string): string[] {
  return content.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
}
