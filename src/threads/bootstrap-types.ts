/** Shapes shared by the master, the broker workers and the child runtime. */
import type { MessagePort } from 'node:worker_threads';

/** What every ConnectSpec says, whichever way the child starts. */
export interface ConnectSpecBase {
  contextId: number;
  /** The connection method, e.g. 'local'; the default name is `${method}.${pid}`. */
  method: string;
  name?: string;
  connectTimeout: number;
  maxMessageSize: number;
  debug: boolean;
  profiling: boolean;
  unidirectional: boolean;
}

/** A command run here (with a PTY if it logs in on one): the byte bootstrap over its stdio. */
export interface SpawnSpec extends ConnectSpecBase {
  kind: 'spawn';
  /** The whole command, first stage included. */
  argv: string[];
  env?: Record<string, string>;
  /** A method that logs in (sudo, su, doas, ssh): its prompts and password. */
  login?: LoginSpec;
  /** Where node-pty is on the machine that makes the connection (for the PTY). */
  ptyModule?: string;
}

/** ssh with the in-process client (ssh2) instead of a command: the byte bootstrap over its exec channel. */
export interface Ssh2ConnectSpec extends ConnectSpecBase {
  kind: 'ssh2';
  ssh2: Ssh2Spec;
  /** No prompts are answered (auth is in-process); its patterns classify what the session reports, in ssh's words. */
  login?: LoginSpec;
}

/** A fork: a context in a worker thread of the connecting context, given the runtime directly (no byte bootstrap). */
export interface ForkSpec extends ConnectSpecBase {
  kind: 'fork';
  fork: {
    /** Source of a function run in the fork, given its Context, before it takes calls. */
    onStart?: string;
    resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number };
  };
}

/** How to start one child context: built by a transport, run by a broker, which starts it as `kind` says. */
export type ConnectSpec = SpawnSpec | Ssh2ConnectSpec | ForkSpec;

/** A child started with the byte bootstrap (first stage, runtime on stdin, markers on stdout). */
export type BootstrapSpec = SpawnSpec | Ssh2ConnectSpec;

/**
 * An in-process ssh connection: the host as given and ssh's command-line
 * options for it; the connecting side resolves the rest from its ssh config.
 */
export interface Ssh2Spec {
  /** The host as given: a name the ssh config may resolve (HostName, ProxyJump...). */
  host: string;
  /** What runs there: one string for the login shell, as the OpenSSH client would be given it. */
  command: string;
  /** ssh's options (-F, -l, -p, -i, -o), as the OpenSSH client would get them: they win over the config. */
  sshArgs: string[];
  /** The ssh binary asked for the config (`ssh -G`); without one the files are read here. */
  sshPath?: string;
  password?: string;
  passphrase?: string;
  /** As the caller asked; absent: as the config's StrictHostKeyChecking says. */
  checkHostKeys?: 'enforce' | 'accept' | 'ignore';
  /** Seconds (the config's ConnectTimeout may be shorter). */
  connectTimeout: number;
  /** ssh2's own debug lines as ssh -v's (forwarded like stderr). */
  debug: boolean;
}

/** What a login looks like: built by a transport, watched by the LoginWatcher. */
export interface LoginSpec {
  method: 'ssh' | 'sudo' | 'su' | 'doas';
  password?: string;
  /** Regex sources (case-insensitive), matched against the unfinished last line. */
  passwordPrompts: string[];
  /** Regex sources (case-insensitive): a finished line saying the password was refused. */
  incorrect: string[];
  /** Regex sources: a finished line saying no password would help. */
  fatal?: string[];
  /** Regex sources, unfinished last line: a question to answer "yes" (ssh's unknown host key, under 'accept'). */
  yesPrompts?: string[];
  /** Regex sources, unfinished last line: a question that means failure (the same question, under 'enforce'). */
  refusePrompts?: string[];
  /** Regex sources, finished lines: the host key was refused (HostKeyError). */
  hostKeyFailures?: string[];
  /** Regex sources, finished lines: the connection itself failed (StreamError quoting the line). */
  streamFailures?: string[];
  /** 'none': no PTY (the tool will not prompt; the watcher still reads its stderr). Default: a PTY. */
  tty?: 'none' | 'required';
  /** Names the far end in error messages (e.g. the ssh host). */
  peer?: string;
  /** Regex sources, finished lines: the interpreter is missing there (StreamError naming `interpreter`). */
  interpreterMissing?: string[];
  /** The interpreter that was tried, for that message. */
  interpreter?: string;
  /**
   * Where the tool reads the password: its terminal (sudo, doas, ssh), or
   * stdin (su: PAM's conversation prompts on stderr, reads stdin).
   */
  answerOn?: 'tty' | 'stdin';
  /**
   * The command to run when no PTY can be opened here (node-pty not loadable):
   * prompts then come on stderr and answers go to stdin. Absent: a PTY is required.
   */
  pipeArgv?: string[];
}

export interface ConnectResult {
  contextId: number;
  name: string;
  pid: number;
  /** The child had read its runtime but not yet started it: a 'booted' event follows (or a disconnect). */
  booting?: true;
}

/** What a child learns about itself, sent after the runtime payload. */
export interface ChildConfig {
  contextId: number;
  /** Parent first, then its parent, up to the master (0). */
  parentIds: number[];
  name: string;
  maxMessageSize: number;
  debug: boolean;
  profiling: boolean;
  unidirectional: boolean;
  /** Set for a fork: its broker, run by its host, is reached on these ports. */
  fork?: { onStart?: string; broker: BrokerPorts };
  /**
   * V8 code caches follow the config on stdin: the byte lengths of the main
   * bundle's and the broker bundle's (0: none for that bundle). docs/protocol.md.
   */
  cc?: [number, number];
  /** The code environment (codeEnv()) the caches were made for: the child uses them only if it is its own. */
  ce?: string;
  /** The parent wants this child's caches back (CODE_CACHE) once it has run. */
  cw?: boolean;
}

/**
 * Where a bundle's V8 code cache is valid, as the two sides compare it: the
 * Node version and arch. V8 flags are left to V8, which checks a hash of
 * them (and its own version) in every cache and rejects a mismatch; a thread
 * cannot see its process's flags (a worker's execArgv is its own). The same
 * expression runs in the first stage, so keep the two in step.
 */
export function codeEnv(): string {
  return process.version + process.arch;
}


/** What a child reports on CODE_CACHE for one bundle, once it has run. */
export interface CodeCacheReport {
  part: 'main' | 'broker';
  /** codeEnv() of the child. */
  env: string;
  /** 'accepted' or 'rejected': what V8 did with the cache it was given; 'none': it was given none. */
  given: 'accepted' | 'rejected' | 'none';
  /** A fresh cache, deflated (deflate(script.createCachedData()) after running), when the parent asked for one (ChildConfig.cw), or sent one that was not taken. */
  data?: Uint8Array;
}

/**
 * A broker this thread did not start (a fork's broker runs as an instance in
 * its host's broker thread): the main thread reaches it on these ports
 * instead of owning a Worker.
 */
export interface BrokerPorts {
  main: MessagePort;
  control: MessagePort;
  modules: MessagePort;
  syncFlag: SharedArrayBuffer;
}

/** The runtime shipped to children: bundled sources, as JSON, then deflated. */
export interface RuntimePayload {
  v: 1;
  /** The child's main-thread runtime (a function body taking require, J, P, C, I). */
  main: string;
  /** The broker worker (an eval'd CommonJS script). */
  broker: string;
  /** ESM loader hooks for module forwarding. */
  hooks: string;
}

/** What a broker is given whatever its role, besides the ports made for it. */
interface BrokerParamsBase {
  contextId: number;
  parentIds: number[];
  name: string;
  maxMessageSize: number;
  unidirectional: boolean;
  debug: boolean;
  payload: Uint8Array;
}

/** The master's broker: no parent; it serves modules from the master's own files. */
export interface MasterBrokerParams extends BrokerParamsBase {
  role: 'master';
  /** A file URL inside mitogen-ts, where packages the runtime itself uses (ssh2) resolve from. */
  moduleBase?: string;
  /** Absolute path of esbuild's entry, for transpiling .ts on the way. */
  esbuildPath?: string;
}

/** A child process's broker: its parent is on its fds. */
export interface ChildBrokerParams extends BrokerParamsBase {
  role: 'child';
  parentFds: { in: number; out: number };
  /** Set when the broker bundle was compiled with vm.Script (the worker's loader): what to report on CODE_CACHE. */
  codeCache?: { env: string; want: boolean; offered: boolean };
}

/** A fork's broker, run in its host's broker thread. */
export interface ForkBrokerParams extends BrokerParamsBase {
  role: 'fork';
  /** To its host, instead of fds. */
  parentPort: MessagePort;
  /** Its main thread (another thread) is on this port, not the running thread's parent. */
  mainPort: MessagePort;
}

/** What a broker's starter gives: brokerChannels adds the ports. */
export type BrokerParams = MasterBrokerParams | ChildBrokerParams | ForkBrokerParams;

/** The ports made for a new broker (brokerChannels). */
interface BrokerInitPorts {
  control: MessagePort;
  modules: MessagePort;
  /** Int32 flag the main thread waits on for synchronous module fetches. */
  syncFlag: SharedArrayBuffer;
}

export type MasterBrokerInit = MasterBrokerParams & BrokerInitPorts & { role: 'master' };
export type ChildBrokerInit = ChildBrokerParams & BrokerInitPorts & { role: 'child' };
export type ForkBrokerInit = ForkBrokerParams & BrokerInitPorts & { role: 'fork' };

/** workerData of a broker worker (a fork's broker is given the same): one shape per role. */
export type BrokerInit = MasterBrokerInit | ChildBrokerInit | ForkBrokerInit;
