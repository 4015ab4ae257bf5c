/**
 * sudo: `sudo -u USER [-E] [-H] [-i] [-r ROLE] [-t TYPE] -- node …`, answering
 * sudo's password prompt in any language sudo or PAM translates it to.
 * `sudoArgs` is parsed as Mitogen parses it; an option we do not know is an
 * error rather than a guess.
 */
import { StreamError } from '../src/wire/errors.js';
import type { LoginSpec } from '../src/threads/bootstrap-types.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { PASSWORD_WORDS, SUDO_PROMPTS } from './password-prompts.js';
import type { Transport } from './transport.js';
import { escapeRegExp } from './escape-regexp.js';

export interface SudoOptions {
  /** The user to become (default 'root'). */
  username?: string;
  sudoPath?: string | string[];
  /** The caller's password (or the target's, under sudoers' targetpw). */
  password?: string;
  setHome?: boolean;
  preserveEnv?: boolean;
  /** Run the target's login shell (`-i`). */
  login?: boolean;
  selinuxRole?: string;
  selinuxType?: string;
  /** sudo options as on a command line: -u/--user, -E/--preserve-env, -H/--set-home, -i/--login, -r/--role, -t/--type. */
  sudoArgs?: string[];
  nodePath?: string | string[];
}

interface ParsedSudoArgs { user?: string; preserveEnv?: boolean; setHome?: boolean; login?: boolean; role?: string; type?: string }

const FLAGS: Record<string, keyof ParsedSudoArgs> = {
  '-E': 'preserveEnv', '--preserve-env': 'preserveEnv', '-H': 'setHome', '--set-home': 'setHome', '-i': 'login', '--login': 'login',
};
const VALUED: Record<string, keyof ParsedSudoArgs> = {
  '-u': 'user', '--user': 'user', '-r': 'role', '--role': 'role', '-t': 'type', '--type': 'type',
};

/** Parses sudo options as Mitogen's parse_sudo_flags does; unknown options throw StreamError naming them. */
export function parseSudoArgs(args: readonly string[]): ParsedSudoArgs {
  const out: ParsedSudoArgs = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (flag in FLAGS) {
      // A flag given a value (--preserve-env=PATH) means something else: refused, not read as the bare flag.
      if (inline !== undefined) throw new StreamError(`sudoArgs: unsupported sudo option ${JSON.stringify(a)} (${flag} is supported without a value)`);
      (out as Record<string, unknown>)[FLAGS[flag]!] = true;
      continue;
    }
    if (flag in VALUED) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new StreamError(`sudoArgs: option ${flag} needs a value`);
      (out as Record<string, unknown>)[VALUED[flag]!] = v;
      continue;
    }
    // Short options with the value attached (-ubob) or clustered flags (-EH).
    if (/^-[urt]./.test(a)) { (out as Record<string, unknown>)[VALUED[a.slice(0, 2)]!] = a.slice(2); continue; }
    if (/^-[EHi]{2,}$/.test(a)) { for (const c of a.slice(1)) (out as Record<string, unknown>)[FLAGS[`-${c}`]!] = true; continue; }
    throw new StreamError(`sudoArgs: unsupported sudo option ${JSON.stringify(a)} (supported: -u, -E, -H, -i, -r, -t and their long forms)`);
  }
  return out;
}

/** Any translation of sudo's prompt, or any language's word for "password" on the prompt line. */
export const SUDO_PROMPT_PATTERNS: string[] = [
  ...Object.values(SUDO_PROMPTS).map((p) => escapeRegExp(p.trim()).replace('%p', '.+')),
  ...PASSWORD_WORDS.map(escapeRegExp),
];

export const sudo: Transport<SudoOptions> = {
  method: 'sudo',
  defaultName: (o) => `sudo.${o.username ?? parseSudoArgs(o.sudoArgs ?? []).user ?? 'root'}`,
  argv(o, common) {
    return sudoArgv(o, common.remoteName, false);
  },
  login(o, common): LoginSpec {
    return {
      method: 'sudo',
      password: o.password,
      passwordPrompts: SUDO_PROMPT_PATTERNS,
      incorrect: ['^sudo: \\d+ incorrect password attempts?'],
      fatal: ['^sudo: a terminal is required', '^sudo: sorry, you must have a tty'],
      // Without a PTY, sudo -S prompts on stderr and reads the password from stdin.
      pipeArgv: sudoArgv(o, common.remoteName, true),
    };
  },
};

function sudoArgv(o: SudoOptions, remoteName: string, stdinPassword: boolean): string[] {
  const p = parseSudoArgs(o.sudoArgs ?? []);
  const bits = [...(typeof o.sudoPath === 'object' ? o.sudoPath : [o.sudoPath ?? 'sudo']), '-u', o.username ?? p.user ?? 'root'];
  if (o.preserveEnv ?? p.preserveEnv) bits.push('-E');
  if (o.setHome ?? p.setHome) bits.push('-H');
  if (o.login ?? p.login) bits.push('-i');
  const role = o.selinuxRole ?? p.role;
  const type = o.selinuxType ?? p.type;
  if (role) bits.push('-r', role);
  if (type) bits.push('-t', type);
  if (stdinPassword) bits.push('-S');
  return [...bits, '--', ...firstStageArgv(o.nodePath ?? 'node', remoteName)];
}
