/**
 * The login machinery shared by every method that types a password: sudo,
 * su, doas (and ssh). As Mitogen's hybrid_tty_create_child: the protocol
 * stays on pipes, binary-clean; only the controlling terminal — where these
 * tools prompt and read passwords — is a PTY. The PTY pair comes from
 * node-pty's native `open()`; no process is attached to it by node-pty: the
 * command runs in a new session (spawn's `detached`) and a tiny `sh` opens
 * the PTY's slave, which makes it the controlling terminal, then execs.
 *
 * The LoginWatcher reads what the tool prints on the PTY: a password prompt
 * on the unfinished last line is answered once; a second prompt, or a line
 * matching the method's failure texts, is a PasswordError with the tool's
 * own words. The password never appears in argv, the environment, logs or
 * messages: every text quoted from the PTY is scrubbed of it first.
 */
import { lazyChildProcess } from '../../src/threads/lazy-builtins.js';
import { writeSync } from 'node:fs';
import tty from 'node:tty';
import { HostKeyError, PasswordError, StreamError } from '../../src/wire/errors.js';
import type { LoginSpec } from '../../src/threads/bootstrap-types.js';

export interface PtyPair {
  master: number;
  slave: number;
  /** The slave's path, e.g. /dev/pts/3. */
  path: string;
}

interface NativePty { open(cols: number, rows: number): { master: number; slave: number; pty: string } }

let native: NativePty | undefined;

/** Opens a PTY pair with node-pty's native module, loaded from `modulePath` (a node-pty package directory). */
export function openPty(modulePath: string | undefined): PtyPair {
  if (!native) {
    const errors: string[] = [];
    for (const candidate of [modulePath, 'node-pty'].filter((x): x is string => !!x)) {
      try {
        const utils = require(`${candidate}/lib/utils`) as { loadNativeModule(name: string): { module: NativePty } };
        native = utils.loadNativeModule('pty').module;
        break;
      } catch (e) {
        errors.push(`${candidate}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    if (!native) throw new Error(`cannot open a PTY here: node-pty is not loadable (${errors.join('; ')})`);
  }
  const t = native.open(80, 24);
  return { master: t.master, slave: t.slave, path: t.pty };
}

/** Runs argv with the PTY at `ptyPath` as its controlling terminal and stderr. */
export function withControllingTty(argv: string[], ptyPath: string): string[] {
  return ['sh', '-c', 'exec "$@" 2<>"$0"', ptyPath, ...argv];
}

export class LoginWatcher {
  #sent = false;
  #partial = '';
  readonly #prompt: RegExp;
  readonly #incorrect: RegExp[];
  readonly #fatal: RegExp[];
  readonly #yes?: RegExp;
  readonly #refuse?: RegExp;
  readonly #hostKey: RegExp[];
  readonly #stream: RegExp[];
  readonly #missing: RegExp[];
  done = false;

  readonly #spec: LoginSpec;
  readonly #answer: (text: string) => void;
  readonly #fail: (e: Error) => void;
  /** Resolves when the tool is ready to read what we type. */
  readonly #ready: () => Promise<void>;

  constructor(spec: LoginSpec, answer: (text: string) => void, fail: (e: Error) => void, ready: () => Promise<void> = () => Promise.resolve()) {
    this.#spec = spec;
    this.#answer = answer;
    this.#fail = fail;
    this.#ready = ready;
    this.#prompt = new RegExp(spec.passwordPrompts.join('|'), 'i');
    this.#incorrect = spec.incorrect.map((s) => new RegExp(s, 'i'));
    this.#fatal = (spec.fatal ?? []).map((s) => new RegExp(s, 'i'));
    const any = (list: string[] | undefined): RegExp | undefined => (list?.length ? new RegExp(list.join('|'), 'i') : undefined);
    this.#yes = any(spec.yesPrompts);
    this.#refuse = any(spec.refusePrompts);
    this.#hostKey = (spec.hostKeyFailures ?? []).map((s) => new RegExp(s, 'i'));
    this.#stream = (spec.streamFailures ?? []).map((s) => new RegExp(s, 'i'));
    this.#missing = (spec.interpreterMissing ?? []).map((s) => new RegExp(s, 'i'));
  }

  #where(): string {
    return this.#spec.peer ? ` (${this.#spec.peer})` : '';
  }

  /** Removes the password from text the tool printed (some tools echo it). */
  scrub(text: string): string {
    const pw = this.#spec.password;
    return pw ? text.split(pw).join('******') : text;
  }

  feed(raw: string): void {
    if (this.done) return;
    const text = this.#partial + this.scrub(raw);
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const full of lines) {
      const line = full.replace(/\r/g, '').trim();
      if (!line) continue;
      if (this.#incorrect.some((r) => r.test(line))) {
        const what = this.#spec.password === undefined ? 'authentication failed and no password was given' : 'password is incorrect';
        this.#finish(new PasswordError(`${this.#spec.method} ${what}${this.#where()}: ${line}`, this.#spec.method));
        return;
      }
      if (this.#fatal.some((r) => r.test(line))) {
        this.#finish(new PasswordError(`${this.#spec.method} refused${this.#where()}: ${line}`, this.#spec.method));
        return;
      }
      if (this.#hostKey.some((r) => r.test(line))) {
        this.#finish(new HostKeyError(`${this.#spec.method} host key refused${this.#where()}: ${line}`));
        return;
      }
      if (this.#missing.some((r) => r.test(line))) {
        this.#finish(new StreamError(`node was not found${this.#where()}: tried ${this.#spec.interpreter ?? 'node'}: ${line}`));
        return;
      }
      if (this.#stream.some((r) => r.test(line))) {
        this.#finish(new StreamError(`${this.#spec.method} could not connect${this.#where()}: ${line}`));
        return;
      }
    }
    const last = this.#partial.replace(/^.*\r(?=.)/s, '').trim();
    if (last && this.#yes?.test(last)) {
      this.#partial = '';
      // ssh's readpassphrase() flushes before it prints the question: answer at once.
      this.#answer('yes\n');
      return;
    }
    if (last && this.#refuse?.test(last)) {
      this.#finish(new HostKeyError(`${this.#spec.method}${this.#where()}: the host key is not known and checkHostKeys is 'enforce': ${last}`));
      return;
    }
    if (last && this.#prompt.test(last)) {
      this.#partial = '';
      if (this.#spec.password === undefined) {
        this.#finish(new PasswordError(`${this.#spec.method} password is required${this.#where()}: ${this.#spec.method} asked "${last}"`, this.#spec.method));
      } else if (this.#sent) {
        this.#finish(new PasswordError(`${this.#spec.method} password is incorrect${this.#where()}: ${this.#spec.method} asked again "${last}"`, this.#spec.method));
      } else {
        this.#sent = true;
        const pw = this.#spec.password;
        void this.#ready().then(() => { if (!this.done) this.#answer(`${pw}\n`); });
      }
    }
  }

  #finish(e: Error): void {
    this.done = true;
    this.#fail(e);
  }
}

/** Reads the PTY master; `onText` gets everything printed, until the slave side closes. */
export interface PtyIO {
  write(text: string): void;
  close(): void;
  /**
   * Interrupts whatever reads the terminal (^C: the tools keep ISIG while
   * reading a password), then closes our side. Closing alone may not hang the
   * terminal up: node-pty's open() leaves its fds inheritable, so another
   * process spawned meanwhile may hold a copy of the master.
   */
  interrupt(): void;
  /** Resolves once everything written to the terminal has been read (or `maxMs` passed). */
  drained(maxMs: number): Promise<void>;
}

export function readPty(pair: PtyPair, onText: (text: string) => void): PtyIO {
  const stream = new tty.ReadStream(pair.master);
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => onText(d));
  let ended = false;
  const enders: (() => void)[] = [];
  const end = (): void => {
    ended = true;
    for (const f of enders.splice(0)) f();
  };
  // EIO once every process holding the slave has gone: the normal end.
  stream.on('error', () => { stream.destroy(); end(); });
  stream.on('close', end);
  let closed = false;
  return {
    write(text) { if (!closed) writeSync(pair.master, text); },
    close() {
      if (closed) return;
      closed = true;
      stream.destroy();
    },
    interrupt() {
      if (closed) return;
      try { writeSync(pair.master, '\x03'); } catch { /* already hung up */ }
      this.close();
    },
    drained(maxMs) {
      if (ended || closed) return Promise.resolve();
      return new Promise((resolve) => {
        const t = setTimeout(resolve, maxMs);
        enders.push(() => { clearTimeout(t); resolve(); });
      });
    },
  };
}

/** Closes our copy of the slave (through a handle: fs.close on a native fd makes Node warn). */
/**
 * Closes the slave side once: a second close of the same number could close
 * whatever file was opened in between (another child's pipe).
 */
export function closeSlave(pair: PtyPair): void {
  if (closedSlaves.has(pair)) return;
  closedSlaves.add(pair);
  try { new tty.ReadStream(pair.slave).destroy(); } catch { /* already closed */ }
}

const closedSlaves = new WeakSet<PtyPair>();

/**
 * Resolves once the terminal's echo is off — the sign that the tool is now
 * reading the password. PAM and sudo switch echo off with TCSAFLUSH, which
 * discards anything typed before: an answer sent on seeing the prompt alone
 * can be thrown away. Gives up waiting after `maxMs` and lets the answer go.
 */
export function whenEchoOff(ptyPath: string, maxMs = 3000): Promise<void> {
  const deadline = Date.now() + maxMs;
  return new Promise((resolve) => {
    const check = (): void => {
      lazyChildProcess().execFile('stty', ['-F', ptyPath], (err, out) => {
        if ((!err && /(^|\s)-echo(\s|$)/.test(out)) || err || Date.now() > deadline) resolve();
        else setTimeout(check, 5);
      });
    };
    check();
  });
}
