/**
 * The command line's arguments. Hand-written: `--sudo[=USER]` takes a value
 * only after `=` (`--sudo h1` is become-root and a host), which neither
 * util.parseArgs nor commander/yargs-style optional values can say.
 */
import { readFileSync } from 'node:fs';
import type { SshOptions } from '../../transports/ssh.js';
import { parseHostsFile, parseTarget, splitHostList, TargetSyntaxError } from './cli-target.js';
import type { SshTarget, Target } from './cli-target.js';

export const USAGE = `usage: mitogen-ts exec [TARGETS] [OPTIONS] -- COMMAND...
       mitogen-ts run  [TARGETS] [OPTIONS] -- MODULE [ARGS...]
targets:  [USER@]HOST[:PORT] | [USER@][V6ADDR]:PORT | ALIAS ...  -H HOST[,HOST...]  --hosts-file FILE (one per line, # comments)
          --docker CONTAINER  --local  --via HOST (repeatable: a chain, each hop through the one before)
become:   --sudo[=USER]  --su[=USER]  --doas[=USER]  -K, --ask-become-pass (or MITOGEN_BECOME_PASSWORD)
ssh:      -l USER  -p PORT  -i IDENTITY  -o SSH_OPTION  -F SSH_CONFIG  --client ssh2|openssh
options:  --parallel N (32)  -t, --timeout SECONDS  --connect-timeout SECONDS (30)  --retries N (0)  --json  --group  --failed-file FILE  -q, --quiet
status:   0 all succeeded, 1 a command failed, 2 a target could not be reached (or a usage error)`;

export type BecomeMethod = 'sudo' | 'su' | 'doas';

export interface CliArgs {
  command: 'exec' | 'run';
  targets: Target[];
  ssh: Partial<SshOptions>;
  /** Hops every target is reached through, first hop first. */
  via: SshTarget[];
  become?: { method: BecomeMethod; username?: string };
  askBecomePass: boolean;
  concurrency?: number;
  timeout?: number;
  /** Seconds each connection's bootstrap may take (each hop's, each become's). */
  connectTimeout?: number;
  retries?: number;
  json: boolean;
  group: boolean;
  quiet: boolean;
  failedFile?: string;
  rest: string[];
}

export class UsageError extends Error {}

function number(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} needs a number, not ${JSON.stringify(v)}`);
  return n;
}

function target(text: string): SshTarget {
  try {
    return parseTarget(text);
  } catch (e) {
    if (e instanceof TargetSyntaxError) throw new UsageError(e.message);
    throw e;
  }
}

/** Reads the command line (without node and the script). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...args] = argv;
  if (command !== 'exec' && command !== 'run') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  const out: CliArgs = { command, targets: [], ssh: {}, via: [], askBecomePass: false, json: false, group: false, quiet: false, rest: [] };
  const sshArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // --flag=value is accepted for every flag taking a value; --sudo and friends take one only so.
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const a = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const noValue = (): void => { if (inline !== undefined) throw new UsageError(`${a} takes no value`); };
    if (a === '--') { out.rest = args.slice(i + 1); break; }
    else if (a === '-H') out.targets.push(...splitHostList(value()).map(target));
    else if (a === '--hosts-file' || a === '--hosts') out.targets.push(...parseHostsFile(readHostsFile(value())).map(target));
    else if (a === '--via') out.via.push(...splitHostList(value()).map(target));
    else if (a === '--docker') out.targets.push(...splitHostList(value()).map((container) => ({ kind: 'docker' as const, text: `docker:${container}`, container })));
    else if (a === '--local') { noValue(); out.targets.push({ kind: 'local', text: 'local' }); }
    else if (a === '--sudo' || a === '--su' || a === '--doas') {
      if (out.become) throw new UsageError(`${a}: only one of --sudo, --su and --doas`);
      if (inline === '') throw new UsageError(`${a}= needs a user name`);
      out.become = { method: a.slice(2) as BecomeMethod, ...(inline !== undefined ? { username: inline } : {}) };
    } else if (a === '--ask-become-pass' || a === '-K') { noValue(); out.askBecomePass = true; }
    else if (a === '-l') out.ssh.username = value();
    else if (a === '-p') out.ssh.port = number(a, value());
    else if (a === '-i') out.ssh.identityFile = value();
    else if (a === '-o') sshArgs.push('-o', value());
    else if (a === '-F') out.ssh.sshConfigFile = value();
    else if (a === '--client') {
      const c = value();
      if (c !== 'ssh2' && c !== 'openssh') throw new UsageError(`--client is ssh2 or openssh, not ${JSON.stringify(c)}`);
      out.ssh.client = c;
    } else if (a === '--parallel' || a === '-c' || a === '--concurrency') out.concurrency = number(a, value());
    else if (a === '-t' || a === '--timeout') out.timeout = number(a, value());
    else if (a === '--retries') out.retries = number(a, value());
    else if (a === '--connect-timeout') out.connectTimeout = number(a, value());
    else if (a === '--failed-file') out.failedFile = value();
    else if (a === '--json') { noValue(); out.json = true; }
    else if (a === '--group') { noValue(); out.group = true; }
    else if (a === '-q' || a === '--quiet') { noValue(); out.quiet = true; }
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else out.targets.push(target(a));
  }
  if (sshArgs.length) out.ssh.sshArgs = sshArgs;
  if (out.askBecomePass && !out.become) throw new UsageError('--ask-become-pass without --sudo, --su or --doas');
  if (!out.targets.length) throw new UsageError('no targets given');
  if (!out.rest.length) throw new UsageError(command === 'exec' ? 'no command given after --' : 'no module given after --');
  return out;
}

function readHostsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--hosts-file ${file}: ${(e as Error).message}`);
  }
}
