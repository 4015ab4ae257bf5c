/**
 * ctx.putFile and ctx.getFile: a file streamed between this context and
 * another, any number of hops away, under credit-based flow control (at most
 * `window` bytes unacknowledged, whatever the file's size), written to a
 * temporary file beside the destination and renamed over it, mode and times
 * kept. Mitogen's FileService does the pulling side of this with a fixed
 * in-flight byte budget; here both directions share the kit in transfer-kit.ts.
 */
import type { Observer } from 'rxjs';
import type { ContextView } from '../runtime/context-view.js';
import { CancelledError, ChannelError, FileTransferError, MitogenError } from '../wire/errors.js';
import type { CreditWindow } from './flow-credit.js';
import { checkWindow } from './flow-window.js';
import type { FlowWindow } from './flow-window.js';
import { localKit, remoteOp } from './kit-remote.js';
import type { FailInfo, FileMeta, FinishOptions, TransferKit } from './transfer-kit.js';

/** How far a transfer has got: bytes written at the destination, of `total`. */
export interface TransferProgress {
  bytes: number;
  total: number;
}

/**
 * Where progress goes: any rxjs Observer (a Subject, say, which the caller
 * observes) or a plain callback. `next` follows the bytes written at the
 * destination — from `{ bytes: 0, total }` to `{ bytes: total, total }`, never
 * decreasing — and `complete` runs when the transfer ends, whatever its
 * outcome (the promise carries the outcome; `error` is never called).
 */
export type ProgressSink = Partial<Observer<TransferProgress>> | ((p: TransferProgress) => void);

export interface FileTransferOptions extends FinishOptions {
  /** Receives progress; see ProgressSink. */
  progress?: ProgressSink;
  /** Aborting cancels the transfer: no partial or temporary file is left, and the promise rejects with CancelledError. */
  signal?: AbortSignal;
  /** Bytes per message (default 1 MiB). */
  chunkSize?: number;
  /**
   * Bytes sent ahead of the receiver's acknowledgements: a number (the
   * starting window, default 8 MiB) or `{ bytes, maxBytes }`. The window
   * grows, doubling, up to `maxBytes` (default max(bytes, 64 MiB)) while the
   * receiver keeps up and the link's round trip is the limit; `{ bytes: n,
   * maxBytes: n }` pins it. The same settings and checks as
   * router.observeWindow (a RangeError names a bad field).
   */
  window?: number | FlowWindow;
}

const DEFAULT_CHUNK = 1024 * 1024;
const DEFAULT_WINDOW = 8 * 1024 * 1024;

/** The checked window of a transfer (the message cap means nothing for bytes). */
function transferWindow(w: number | FlowWindow | undefined): CreditWindow {
  const c = checkWindow(typeof w === 'object' ? w : { bytes: w ?? DEFAULT_WINDOW }, 'window');
  return { bytes: c.bytes, messages: 0, maxBytes: c.maxBytes };
}

const WHAT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  EEXIST: 'file exists',
  EFBIG: 'file too large',
  EIO: 'input/output error',
};

/** The public error for a kit failure: CancelledError, ChannelError, or a FileTransferError naming path and side. */
function publicError(op: string, info: FailInfo): Error {
  if (info.code === 'CANCELLED') return new CancelledError(`${op} cancelled`);
  if (info.code === 'ECHANNEL') return new ChannelError(`${op}: lost the other end of the transfer: ${info.message}`);
  const what = WHAT[info.code] ?? info.message;
  const where = info.path ? `: ${info.path}` : '';
  return new FileTransferError(`${op}: ${what}${where} (${info.code} in ${info.side})`, info.code, info.path ?? '', info.side);
}

/** Progress with a guard: strictly what the contract promises, and a sink that throws cannot break the transfer. */
function progressReporter(sink: ProgressSink | undefined): { next(p: TransferProgress): void; complete(): void } {
  let last = -1;
  const call = (f: () => void): void => { try { f(); } catch { /* the caller's sink: not our failure */ } };
  return {
    next: (p) => {
      if (!sink || p.bytes <= last) return;
      last = p.bytes;
      call(() => (typeof sink === 'function' ? sink(p) : sink.next?.(p)));
    },
    complete: () => { if (sink && typeof sink !== 'function') call(() => sink.complete?.()); },
  };
}

/** Calls `fail` with a cancellation when `signal` aborts; returns the unhook. */
function onAbort(signal: AbortSignal | undefined, kit: TransferKit, fail: (info: FailInfo) => void): () => void {
  if (!signal) return () => {};
  const listener = (): void => fail(kit.cancelled());
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** The far end's call: whatever it ends with also fails the local endpoint (`fail`), so no local wait outlives it. */
function watch(p: Promise<FailInfo | null>, fail: (info: FailInfo) => void, ctx: ContextView): Promise<FailInfo | null> {
  p.then(
    (info) => { if (info) fail(info); },
    (e: unknown) => fail({ code: 'ECHANNEL', message: e instanceof Error ? e.message : String(e), side: ctx.name }),
  );
  return p;
}

/**
 * After the local end stopped on `e` and the far end has settled: a kit
 * failure becomes its public error (the far end's own account, when the local
 * end only saw the channel close); anything else (a CallError) goes as it is.
 */
function failure(op: string, kit: TransferKit, e: unknown, farInfo: FailInfo | null): Error {
  if (!(e instanceof kit.TransferAbort) && e instanceof MitogenError) return e;
  const info = kit.failInfo(e);
  return publicError(op, info.code === 'ECHANNEL' && farInfo ? farInfo : info);
}

/** The local file a transfer starts from, opened before the far end is asked: a failure is `op`'s public error. */
async function opened<T>(op: string, kit: TransferKit, open: Promise<T>): Promise<T> {
  try {
    return await open;
  } catch (e) {
    throw publicError(op, kit.failInfo(e));
  }
}

type Progress = ReturnType<typeof progressReporter>;

/**
 * What both directions begin and end with: the settings checked before
 * anything is opened (a bad one leaves nothing behind), a signal aborted
 * beforehand refused, and progress completed whatever the outcome.
 */
async function transfer(op: 'putFile' | 'getFile', ctx: ContextView, opts: FileTransferOptions,
  run: (kit: TransferKit, window: CreditWindow, progress: Progress) => Promise<void>): Promise<void> {
  const window = transferWindow(opts.window);
  const kit = localKit(ctx.router);
  const progress = progressReporter(opts.progress);
  try {
    if (opts.signal?.aborted) throw new CancelledError(`${op} cancelled`);
    await run(kit, window, progress);
  } finally {
    progress.complete();
  }
}

/** ctx.putFile: sends `localPath` here to `remotePath` in `ctx`. */
export function putFile(ctx: ContextView, localPath: string, remotePath: string, opts: FileTransferOptions = {}): Promise<void> {
  return transfer('putFile', ctx, opts, async (kit, window, progress) => {
    const src = await opened('putFile', kit, kit.openSource(localPath));
    const total = src.meta.size;
    const out = new kit.Outlet(ctx, window, (bytes) => progress.next({ bytes, total }));
    const unhook = onAbort(opts.signal, kit, (i) => out.fail(i));
    const finish: FinishOptions = { mode: opts.mode, uid: opts.uid, gid: opts.gid, preserveTimes: opts.preserveTimes, fsync: opts.fsync };
    const far = watch(remoteOp(ctx, 'acceptFile', remotePath, src.meta, finish, out.sender(), window, opts.progress !== undefined), (i) => out.fail(i), ctx);
    try {
      await out.hello();
      progress.next({ bytes: 0, total });
      await kit.sendFile(out, src.fh, total, opts.chunkSize ?? DEFAULT_CHUNK, localPath);
      const info = await far;
      if (info) throw new kit.TransferAbort(info);
      progress.next({ bytes: total, total });
    } catch (e) {
      out.abort(kit.failInfo(e));
      // Wait for the far end to remove its temporary file before saying it failed.
      throw failure('putFile', kit, e, await far.catch(() => null));
    } finally {
      unhook();
      out.close();
      await src.fh.close().catch(() => {});
    }
  });
}

/** ctx.getFile: fetches `remotePath` in `ctx` to `localPath` here. */
export function getFile(ctx: ContextView, remotePath: string, localPath: string, opts: FileTransferOptions = {}): Promise<void> {
  return transfer('getFile', ctx, opts, async (kit, window, progress) => {
    const t = await opened('getFile', kit, kit.openTemp(localPath));
    const inl = new kit.Inlet(ctx, window);
    const unhook = onAbort(opts.signal, kit, (i) => inl.fail(i));
    const far = watch(remoteOp(ctx, 'serveFile', remotePath, inl.sender(), window, opts.chunkSize ?? DEFAULT_CHUNK),
      (i) => inl.fail(i), ctx);
    try {
      const meta = await inl.hello() as FileMeta;
      const total = meta.size;
      progress.next({ bytes: 0, total });
      await kit.writeStream(inl, t.fh, localPath, (bytes) => progress.next({ bytes, total }));
      await kit.finishTemp(t, localPath, meta, opts);
      const info = await far;
      if (info) throw new kit.TransferAbort(info);
    } catch (e) {
      inl.abort(kit.failInfo(e));
      await kit.discardTemp(t);
      throw failure('getFile', kit, e, await far.catch(() => null));
    } finally {
      unhook();
      inl.close();
    }
  });
}
