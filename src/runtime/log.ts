/**
 * The master's logger. Children's console output and log records arrive here
 * tagged with the context's name (never on the message stream) and are
 * printed to stderr, or to a file after logToFile(). enableDebug() shows the
 * runtime's own debug records too.
 */
import { appendFileSync } from 'node:fs';
import { Subject } from 'rxjs';

import type { LogLevel } from '../threads/log-level.js';

export { DEFAULT_WARNINGS_PER_SECOND, type LogLevel } from '../threads/log-level.js';

export interface LogRecord {
  /** The context the record comes from, e.g. "local.1234", or "mitogen" for the master's own. */
  name: string;
  level: LogLevel;
  text: string;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: LogLevel = 'info';
let filePath: string | undefined;
const debugListeners = new Set<(on: boolean) => void>();

/** Every record, printed or not: subscribe to capture forwarded output. */
export const logRecords = new Subject<LogRecord>();

export function isDebugEnabled(): boolean {
  return threshold === 'debug';
}

/** Shows the runtime's debug records, from the master and from every context. */
export function enableDebug(): void {
  threshold = 'debug';
  for (const fn of debugListeners) fn(true);
}

/** @internal Routers register here so enableDebug() reaches their brokers. */
export function onDebugChange(fn: (on: boolean) => void): () => void {
  debugListeners.add(fn);
  return () => debugListeners.delete(fn);
}

/** Writes log records to `path` (default /tmp/mitogen-ts.<pid>.log) instead of stderr. */
export function logToFile(path = `/tmp/mitogen-ts.${process.pid}.log`): string {
  filePath = path;
  return path;
}

export function formatRecord(r: LogRecord): string {
  return `[${r.name}] ${r.level === 'info' ? '' : `${r.level.toUpperCase()}: `}${r.text}`;
}

export function emitLog(record: LogRecord): void {
  if (logRecords.observed) logRecords.next(record);
  if (rank[record.level] < rank[threshold]) return;
  const line = `${formatRecord(record)}\n`;
  if (filePath) appendFileSync(filePath, `${new Date().toISOString()} ${line}`);
  else process.stderr.write(line);
}

export function log(level: LogLevel, text: string, name = 'mitogen'): void {
  emitLog({ name, level, text });
}
