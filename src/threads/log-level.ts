/** The levels of a log line, as every thread sends them (a broker's events, FORWARD_LOG), and a broker's warning budget. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Warnings a broker logs per second before it counts the rest in one line (router.maxWarningsPerSecond). */
export const DEFAULT_WARNINGS_PER_SECOND = 1000;
