/**
 * ContextActor: starts one child context and carries it through the
 * bootstrap, inside the broker worker that will own its pipes.
 *
 * Stages, each marked by a line the child prints on stdout:
 *   spawned     the command started (a shell, sudo, ssh... may print first)
 *   MITO000     the first stage runs and waits for the runtime on stdin
 *   MITO001     the runtime was read and is being started: the connect resolves,
 *               and what the caller sends waits in the child's stdin
 *   MITO002     the child's broker owns its fds: binary frames follow
 * A failure names the last stage reached and quotes what the target printed.
 */
import { EofError, MitogenError, StreamError, TimeoutError } from '../../src/wire/errors.js';
import type { BootstrapSpec, ConnectResult } from '../../src/threads/bootstrap-types.js';
import { childConfig } from './child-config.js';
import type { CodeCacheOffer } from '../code-cache.js';
import { StreamActor } from '../stream-actor.js';
import { LoginWatcher, readPty, whenEchoOff } from './login-watcher.js';
import type { StreamEvents, StreamShared } from '../stream-actor.js';
import { MARKER_PREFIX } from '../../src/wire/bootstrap-markers.js';
import { BootstrapParser } from './bootstrap-parser.js';
import { KEPT_LINES, LineTail } from './line-tail.js';
import { describeCommand } from '../openers/opener.js';
import type { ChildLike, Open, Opened } from '../openers/opener.js';

const STAGE_TEXT = [
  'the command started but the first stage never ran',
  'the first stage ran but the runtime was not read',
  'the runtime was read but did not start',
];
/** The oldest Node the runtime runs on (the first stage checks it). */
export const MIN_NODE_MAJOR = 18;

export interface ConnectDeps {
  /** The compressed runtime payload this context forwards to its children. */
  payload: Uint8Array;
  myId: number;
  parentIds: number[];
  streamEvents: StreamEvents;
  /** The connecting broker's limits, which the child's stream follows. */
  streamShared: StreamShared;
  /**
   * The V8 code caches to send with the runtime: asked for once the command
   * has started, so what making them costs (the broker's own compile, once)
   * overlaps the child's own start.
   */
  codeCache?: () => CodeCacheOffer;
  /** A line the child wrote to stderr: after the bootstrap at info level, during it (with `debug`) at debug level. */
  onStderr(name: string, line: string, level?: 'debug' | 'info'): void;
}

export interface Connected {
  /** Gated: its frames are cut only once the caller has registered it and called ungate(). */
  stream: StreamActor;
  result: ConnectResult;
  child: ChildLike;
  /** Settles when the child's broker has started (MITO002), or rejects with why it did not. */
  booted: Promise<void>;
}

/** Starts the child `open` opens (the opener the spec's kind asks for) and carries it through the bootstrap. */
export function connectChild(spec: BootstrapSpec, deps: ConnectDeps, open: Open): Promise<Connected> {
  const shownFile = describeCommand(spec);
  return new Promise<Connected>((resolve, reject) => {
    let opened: Opened;
    try {
      opened = open(spec.debug ? (text) => deps.onStderr(name, text, 'debug') : undefined);
    } catch (e) {
      // A failure to start is a StreamError naming the command.
      reject(e instanceof StreamError ? e : new StreamError(`could not start ${shownFile}: ${(e as Error).message}`));
      return;
    }
    const { child, pty, answerOn } = opened;
    let name = spec.name ?? `${spec.method}.${child.pid ?? 'unknown'}`;
    let settled = false;
    const parser = new BootstrapParser();
    const stderrTail = new LineTail();
    let booted = false;
    /** The stream handed out at MITO001, written to but not read until MITO002. */
    let early: StreamActor | undefined;
    let bootedOk!: () => void;
    let bootedFailed!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => { bootedOk = res; bootedFailed = rej; });
    started.catch(() => { /* the connect's own rejection, or the stream's close, reports it */ });

    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A setuid tool (sudo) may not be ours to signal: interrupt it through its terminal, end its stdin.
      ptyIO?.interrupt();
      child.stdin?.destroy();
      try {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      } catch { /* EPERM: it runs as another user */ }
      // Past MITO001 the connect has resolved: the stream carries the failure to its callers.
      if (early) early.close(err.message);
      bootedFailed(err);
      reject(err);
    };

    // The login phase: prompts on the PTY are answered; after the boot, what
    // the child writes to its stderr (the PTY) is forwarded like stderr.
    const onStdin = answerOn === 'stdin';
    const watcher = spec.login
      ? new LoginWatcher(spec.login, (t) => (onStdin ? child.stdin!.write(t) : ptyIO?.write(t)), (e) => fail(e),
        onStdin ? undefined : () => whenEchoOff(pty!.path))
      : undefined;
    // With `debug`, what the tool prints while logging in (ssh -v's lines, say) is
    // forwarded at debug level too, scrubbed of the password like everything else.
    const loginLine = spec.debug ? (line: string): void => { if (line.trim()) deps.onStderr(name, line.replace(/\r/g, ''), 'debug'); } : undefined;
    const ptyTail = new LineTail();
    const ptyIO = pty ? readPty(pty, (text) => {
      const clean = watcher!.scrub(text);
      if (booted) ptyTail.push(clean, (line) => { if (line.trim()) deps.onStderr(name, line.replace(/\r/g, '')); });
      else {
        ptyTail.push(clean, loginLine);
        watcher!.feed(text);
      }
    }) : undefined;
    const printed = (): string => {
      const parts = [parser.lastLines(), stderrTail.text(), ptyTail.text().replace(/\r/g, '')];
      const text = parts.filter(Boolean).join('\n');
      return watcher ? watcher.scrub(text) : text;
    };

    const timer = setTimeout(() => {
      fail(new TimeoutError(`Failed to setup connection after ${spec.connectTimeout} seconds: ${name}: bootstrap stopped at stage ${parser.stage} (${STAGE_TEXT[parser.stage]}); last ${KEPT_LINES} lines received:\n${printed()}`));
    }, spec.connectTimeout * 1000);

    child.on('error', (e: NodeJS.ErrnoException) => {
      fail(e instanceof MitogenError ? e : new StreamError(`${name}: could not start ${shownFile}: ${e.code === 'ENOENT' ? `no such file or directory (${shownFile})` : e.message}`));
    });

    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      const clean = watcher ? watcher.scrub(text) : text;
      if (booted) stderrTail.push(clean, (line) => deps.onStderr(name, line));
      else {
        stderrTail.push(clean, loginLine);
        watcher?.feed(text);
      }
    });

    child.on('close', async (code, signal) => {
      if (settled) { ptyIO?.close(); return; }
      // The tool's last words may still be in the terminal (e.g. "su: Authentication failure"):
      // read them first, so the login watcher can name the real failure.
      if (ptyIO) await ptyIO.drained(1000);
      if (settled) { ptyIO?.close(); return; }
      const how = signal ? `killed by ${signal}` : `exited with status ${code}`;
      const stage = parser.stage;
      fail(new EofError(`EOF on stream; last ${KEPT_LINES} lines received:\n${printed()}\n(${name}: ${shownFile} ${how}; bootstrap stopped at stage ${stage}: ${STAGE_TEXT[stage]})`));
    });

    child.stdin!.on('error', () => { /* EPIPE: the 'close' path reports what happened */ });

    const onPreludeData = (chunk: Buffer): void => {
      if (settled) return;
      // Some tools prompt on stdout: the watcher reads it too, until the runtime's markers start.
      if (watcher && parser.stage === 0 && !chunk.includes(MARKER_PREFIX)) watcher.feed(chunk.toString('utf8'));
      for (const event of parser.feed(chunk)) {
        if (settled) return;
        if (event.kind === 'too-old') {
          fail(new StreamError(`${name}: ${shownFile} runs Node ${event.version}; mitogen-ts needs Node >= ${MIN_NODE_MAJOR} on the target`));
        } else if (event.kind === 'stage') {
          // A tool that reads its password from our pipe (su) gets the runtime only once the first stage runs.
          if (event.stage === 1 && answerOn === 'stdin') sendPayload();
          if (event.stage === 2) onRuntimeRead();
        } else if (event.kind === 'booted') {
          onBooted(event.rest);
        }
      }
    };
    child.stdout!.on('data', onPreludeData);

    // The first stage has read the runtime and its config with exact-length reads, so
    // whatever we write now waits in its stdin for the broker: the connect resolves here,
    // and the caller's first messages travel while the runtime starts (one round trip
    // fewer than waiting for MITO002). The stream is read only from MITO002 on.
    const onRuntimeRead = (): void => {
      early = new StreamActor(child.stdout!, child.stdin!, {
        remoteId: spec.contextId, name, maxMessageSize: spec.maxMessageSize, deferReading: true, gated: true, shared: deps.streamShared,
      }, deps.streamEvents);
      early.pid = child.pid;
      resolve({ stream: early, child, booted: started, result: { contextId: spec.contextId, name, pid: child.pid ?? 0, booting: true } });
    };

    const onBooted = (rest: Buffer): void => {
      child.stdout!.off('data', onPreludeData);
      settled = true;
      booted = true;
      clearTimeout(timer);
      if (!early) onRuntimeRead();
      const stream = early!;
      if (rest.length) stream.feed(rest);
      // In this tick: a flowing stdout with no 'data' listener would drop what comes next.
      stream.startReading();
      bootedOk();
    };

    const sendPayload = (): void => {
      const cc = deps.codeCache?.();
      // The caches follow the config, their lengths in it (docs/protocol.md).
      const config = childConfig(spec, name, deps, cc ? { cc: [cc.main.byteLength, cc.broker.byteLength], ce: cc.env, cw: cc.want } : {});
      const configBytes = Buffer.from(JSON.stringify(config));
      const head = Buffer.alloc(4);
      head.writeUInt32BE(deps.payload.byteLength);
      const mid = Buffer.alloc(4);
      mid.writeUInt32BE(configBytes.byteLength);
      child.stdin!.write(Buffer.concat([head, deps.payload, mid, configBytes, ...(cc ? [cc.main, cc.broker] : [])]));
    };

    child.on('spawn', () => {
      name = spec.name ?? `${spec.method}.${child.pid}`;
      if (answerOn !== 'stdin') sendPayload();
    });
  });
}
