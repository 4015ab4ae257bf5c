/**
 * The calling side of ctx.callWith: a call with a deadline and/or an
 * AbortSignal. Giving up rejects at once with TimeoutError or
 * CancelledError and tells the context (CANCEL_CALL), whose copy of the
 * call sees its signal abort. The function there keeps running unless it
 * checks that signal; its reply, when it comes, lands on the abandoned
 * reply handle, is counted in router.lateRepliesDropped and goes no further.
 * Reply handles are never reused, so no later call can receive it.
 */
import type { AnyFunction, CallWithOptions } from '../wire/call.js';
import { FnRef } from '../wire/call.js';
import type { CancelBody } from './call-deadline-scope.js';
import type { ContextView } from './context-view.js';
import { CancelledError, TimeoutError } from '../wire/errors.js';
import { CANCEL_CALL } from '../wire/handles.js';
import { log } from './log.js';
import { Message } from '../wire/message.js';

/** setTimeout's largest delay; a longer timeout is no timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timeout in seconds, checked: a bad one must not silently mean "wait for ever". */
export function checkTimeout(timeout: unknown, what: string): number | undefined {
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(`${what} must be a number of seconds ≥ 0 (or Infinity), not ${String(timeout)}`);
  }
  return timeout;
}

/** The function's name as messages give it. */
export function describeFn(fn: AnyFunction | FnRef): string {
  if (fn instanceof FnRef) return `${fn.exportName} of ${fn.url}`;
  return fn.name ? `${fn.name}()` : 'an anonymous function';
}

function reasonText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name !== 'AbortError') return `: ${r.message}`;
  if (typeof r === 'string' && r) return `: ${r}`;
  return '';
}

/** Sends `msg` (a call) to `ctx` and settles with its reply, or gives up as `opts` say. */
export function callWithDeadline<T>(ctx: ContextView, msg: Message, what: string, opts: CallWithOptions): Promise<T> {
  const router = ctx.router;
  const timeout = checkTimeout(opts.timeout ?? router.callTimeout, 'callWith timeout');
  const signal = opts.signal;
  if (signal?.aborted) return Promise.reject(new CancelledError(`call to ${what} in ${ctx.name} was cancelled before it was sent${reasonText(signal)}`));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      router.broker.release();
    };
    // One-shot, and kept after giving up: it is where a late reply is dropped.
    const handle = router.addHandler((reply) => {
      if (settled) {
        if (!reply.isDead) {
          router.noteLateReply();
          log('debug', `${router.name}: dropped the late reply of ${what} from ${ctx.name}`);
        }
        return;
      }
      settle();
      try {
        resolve(reply.decode() as T);
      } catch (e) {
        reject(e);
      }
    }, { persist: false, respondent: ctx });
    const giveUp = (kind: CancelBody[1], error: Error): void => {
      if (settled) return;
      settle();
      if (!ctx.isDisconnected) {
        const body: CancelBody = [handle, kind, error.message];
        ctx.send(Message.encoded(body, { handle: CANCEL_CALL }));
      }
      reject(error);
    };
    const onAbort = (): void => giveUp('cancel', new CancelledError(`call to ${what} in ${ctx.name} was cancelled${reasonText(signal!)}`));
    msg.replyTo = handle;
    router.broker.hold();
    if (timeout !== undefined && timeout * 1000 <= MAX_TIMER_MS) {
      const arm = (): void => {
        if (!settled) timer = setTimeout(() => giveUp('timeout', new TimeoutError(`call to ${what} in ${ctx.name} timed out after ${timeout} s`)), timeout * 1000);
      };
      // The call already waits in the child's stdin while it starts: that is the
      // connect's time (connectTimeout), not the call's.
      if (ctx.starting) void ctx.starting.then(arm);
      else arm();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    ctx.send(msg);
  });
}
