/**
 * Reading an ssh command line the way OpenSSH does, for fakessh: options
 * (getopt style, with OpenSSH's option letters), the host, options once more
 * (ssh accepts `ssh host -p 22 cmd`), then the remote command's words, which
 * ssh joins with spaces for the remote shell. As Mitogen's fakessh, every
 * option is accepted and ignored except `-s` (a subsystem: the command names it).
 */

/** OpenSSH's options that take an argument (ssh.c's getopt string). */
const WITH_ARG = new Set('BbcDEeFIiJLlmOoPpQRSWw');
const FLAGS = new Set('1246AaCfGgKkMNnqsTtVvXxYy');

export interface SshInvocation {
  host: string;
  /** The remote command, its words joined by spaces; null when none was given (a login session). */
  command: string | null;
  /** True with `-s`: `command` names a subsystem (scp's and sftp's `sftp`). */
  subsystem: boolean;
  /** Every option seen, in order: [flag, argument or null]. */
  options: [string, string | null][];
}

export class SshUsageError extends Error {}

/**
 * Reads options from `argv[start]` on, getopt style with OpenSSH's letters,
 * up to the first word that is not one (or past `--`). Also what the ssh2
 * client reads `sshArgs` with.
 */
export function readSshOptions(argv: readonly string[], start = 0): { options: [string, string | null][]; next: number; terminated: boolean } {
  const options: [string, string | null][] = [];
  let i = start;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') return { options, next: i + 1, terminated: true };
    if (!a.startsWith('-') || a === '-') break;
    i++;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (WITH_ARG.has(c)) {
        const value = j + 1 < a.length ? a.slice(j + 1) : argv[i++];
        if (value === undefined) throw new SshUsageError(`option requires an argument -- ${c}`);
        options.push([`-${c}`, value]);
        break;
      }
      if (!FLAGS.has(c)) throw new SshUsageError(`unknown option -- ${c}`);
      options.push([`-${c}`, null]);
    }
  }
  return { options, next: i, terminated: false };
}

export function parseSshArgs(argv: readonly string[]): SshInvocation {
  const before = readSshOptions(argv);
  let i = before.next;
  const host = argv[i++];
  if (host === undefined) throw new SshUsageError('no host name given');
  // Like OpenSSH, once more after the host, unless `--` ended the options.
  const after = before.terminated ? { options: [], next: i } : readSshOptions(argv, i);
  const options = [...before.options, ...after.options];
  const words = argv.slice(after.next);
  return {
    host,
    command: words.length ? words.join(' ') : null,
    subsystem: options.some(([o]) => o === '-s'),
    options,
  };
}
