/**
 * The master prints what its contexts forward to it, their console output
 * and log records (FORWARD_LOG messages), tagged with each one's name, where
 * src/runtime/log.ts prints: the user's stderr, or the file logToFile() named.
 */
import type { RouterView } from './context-view.js';
import { FORWARD_LOG } from '../wire/handles.js';
import { emitLog, log } from './log.js';
import type { LogLevel, LogRecord } from './log.js';
import type { Message } from '../wire/message.js';

/** Prints every record that reaches the router's FORWARD_LOG handle (the master's). */
export function printForwardedLogs(router: Pick<RouterView, 'addHandler'>): void {
  router.addHandler((msg) => {
    if (msg.isDead) return; // the broker has ended: no more records
    const record = forwardedRecord(msg);
    if (record) emitLog(record);
    else log('warn', `dropping a malformed FORWARD_LOG from context ${msg.srcId}: ${msg}`);
  }, { handle: FORWARD_LOG });
}

const LEVELS: ReadonlySet<unknown> = new Set<LogLevel>(['debug', 'info', 'warn', 'error']);

/** A FORWARD_LOG body, `[name, level, text]`, checked: any context may send one. */
function forwardedRecord(msg: Message): LogRecord | undefined {
  let v: unknown;
  try { v = msg.decode(); } catch { return undefined; }
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'string' || !LEVELS.has(v[1]) || typeof v[2] !== 'string') return undefined;
  return { name: v[0], level: v[1] as LogLevel, text: v[2] };
}
