/**
 * The error classes of the public API. Every error the runtime raises for a
 * caller is one of these, so `catch (e) { if (e instanceof ChannelError) … }`
 * works, and the codec can rebuild them by name on the other side of a pipe.
 */
export class MitogenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A function that ran in another context threw. `message` is "Type: text". */
export class CallError extends MitogenError {
  /** The remote error's class name, e.g. "TypeError". */
  type: string;
  /** The remote stack trace, as the remote context printed it. */
  remoteStack: string;
  constructor(message: string, type = 'Error', remoteStack = '') {
    super(message);
    this.type = type;
    this.remoteStack = remoteStack;
  }

  /** Wraps anything a remote function threw, the way Mitogen's CallError does. */
  static fromThrown(e: unknown): CallError {
    if (e instanceof CallError) return e;
    if (e instanceof Error) {
      // A subclass that leaves `name` as the inherited 'Error' is still reported by its class.
      const type = e.name && e.name !== 'Error' ? e.name : e.constructor?.name || e.name || 'Error';
      return new CallError(`${type}: ${e.message}`, type, e.stack ?? '');
    }
    return new CallError(`Error: ${String(e)}`, 'Error', '');
  }
}

/** The channel a reply was expected on has closed: the peer died or disconnected. */
export class ChannelError extends MitogenError {
  static readonly remoteMsg = 'Channel closed by remote end.';
  static readonly localMsg = 'Channel closed by local end.';
}

/** A connection could not be made or broke (spawn failure, bad argv, corruption). */
export class StreamError extends MitogenError {}

/** A wait ran out of time. */
export class TimeoutError extends MitogenError {}

/** A Latch or Select was used after it was closed or emptied. */
export class LatchError extends MitogenError {}

/** Authentication failed or needed a password that was not given. */
export class PasswordError extends MitogenError {
  method: 'ssh' | 'sudo' | 'su' | 'doas';
  constructor(message: string, method: 'ssh' | 'sudo' | 'su' | 'doas' = 'ssh') {
    super(message);
    this.method = method;
  }
}

/** An ssh host key was unknown or changed under the 'enforce' policy. */
export class HostKeyError extends MitogenError {}

/** The stream ended before the bootstrap finished; the message quotes what the target printed. */
export class EofError extends StreamError {}

/** An operation was cancelled by its caller. */
export class CancelledError extends MitogenError {}

/** ctx.exec with `check: true`: the command failed; the message names the context, command, status and stderr's tail. */
export class ExecError extends MitogenError {}

/**
 * ctx.spawn/ctx.exec: the command could not be started at all (no such file,
 * not executable, a bad cwd). `code` is the errno name (ENOENT, EACCES, ...).
 */
export class SpawnError extends MitogenError {
  code: string;
  constructor(message: string, code = 'EIO') {
    super(message);
    this.code = code;
  }
}

/** A pool call refused because every thread is busy and the queue is full. */
export class PoolQueueFullError extends MitogenError {}

/**
 * putFile/getFile failed on a file: `code` is the errno name (ENOENT, EACCES,
 * ENOSPC, ...), `path` the file concerned, `side` the name of the context where
 * it failed.
 */
export class FileTransferError extends MitogenError {
  code: string;
  path: string;
  side: string;
  constructor(message: string, code = 'EIO', path = '', side = '') {
    super(message);
    this.code = code;
    this.path = path;
    this.side = side;
  }
}

/** Every class the codec may rebuild on the receiving side, by name. */
export const errorClasses: Record<string, new (message: string) => MitogenError> = {
  MitogenError, CallError, ChannelError, StreamError, TimeoutError, LatchError,
  PasswordError, HostKeyError, EofError, CancelledError, PoolQueueFullError, FileTransferError, ExecError, SpawnError,
};
