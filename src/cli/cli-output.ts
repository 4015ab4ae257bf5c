/**
 * What the command line prints. Host output goes to stdout/stderr as
 * `host | line` (live, or per host with --group) or, with --json, as one
 * NDJSON object per host on stdout. Progress goes to stderr: on a terminal a
 * single line redrawn in place (`\r\x1b[2K`, erase the line) below the host
 * output; elsewhere one line per finished host. A summary table and the
 * final "N ok, M failed" line end it.
 */

export type HostStatus = 'ok' | 'failed' | 'unreachable' | 'error';

/** One host's outcome: a row of the summary table, and (with --json) its NDJSON object. */
export interface HostResult {
  host: string;
  /** ok; failed: the command exited non-zero or the module threw; unreachable: never connected; error: lost after connecting. */
  status: HostStatus;
  /** The command's exit status (exec), null when it did not exit or for run. */
  exitCode: number | null;
  signal: string | null;
  ms: number;
  /** The error's class and message, when not ok. */
  error?: { type: string; message: string };
  stdout?: string;
  stderr?: string;
  /** run: the default export's return value. */
  result?: unknown;
}

export interface Out { write(s: string): unknown }
export interface OutputOptions { json: boolean; group: boolean; quiet: boolean; tty: boolean }

const ERASE = '\r\x1b[2K';

export class Output {
  private readonly width: number;
  private readonly started = performance.now();
  private done = 0;
  private failed = 0;
  private readonly held = new Map<string, { stream: 'stdout' | 'stderr'; text: string }[]>();
  private timer?: NodeJS.Timeout;
  private drawn = false;

  constructor(private readonly io: { out: Out; err: Out }, private readonly hosts: readonly string[], private readonly opts: OutputOptions) {
    this.width = Math.max(...hosts.map((h) => h.length));
    if (opts.tty && !opts.quiet) {
      this.draw();
      // Elapsed time moves between events too; unref'd so it never holds the process open.
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  private progress(): string {
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    return `[${this.done}/${this.hosts.length}] done, ${this.failed} failed, ${secs} s`;
  }

  private draw(): void {
    this.io.err.write(`${ERASE}${this.progress()}`);
    this.drawn = true;
  }

  /** Writes above the progress line: erase it, write, draw it again. */
  private above(write: () => void): void {
    if (this.drawn) this.io.err.write(ERASE);
    this.drawn = false;
    write();
    if (this.timer) this.draw();
  }

  private prefixed(host: string, text: string): string {
    return `${host.padEnd(this.width)} | ${text}\n`;
  }

  /** A line of a host's output, as it arrives. */
  line(host: string, stream: 'stdout' | 'stderr', text: string): void {
    if (this.opts.group) {
      const h = this.held.get(host) ?? [];
      h.push({ stream, text });
      this.held.set(host, h);
      return;
    }
    this.above(() => (stream === 'stdout' ? this.io.out : this.io.err).write(this.prefixed(host, text)));
  }

  /** A host has finished, one way or the other. */
  finished(r: HostResult): void {
    this.done++;
    if (r.status !== 'ok') this.failed++;
    const held = this.held.get(r.host) ?? [];
    this.held.delete(r.host);
    const progress = !this.opts.tty && !this.opts.quiet;
    if (!held.length && !this.opts.json && !progress) {
      if (this.timer) this.draw();
      return;
    }
    this.above(() => {
      for (const l of held) (l.stream === 'stdout' ? this.io.out : this.io.err).write(this.prefixed(r.host, l.text));
      if (this.opts.json) this.io.out.write(`${JSON.stringify(r)}\n`);
      if (progress) {
        const what = r.status === 'ok' ? 'ok' : `FAILED: ${r.error?.message ?? r.status}`;
        this.io.err.write(`[${this.done}/${this.hosts.length}] ${r.host} ${what} (${(r.ms / 1000).toFixed(2)} s)\n`);
      }
    });
  }

  /** Ends the progress line and prints the summary: the table (unless quiet), then the totals. */
  close(results: readonly HostResult[], ms: number): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.io.err.write(ERASE);
    this.drawn = false;
    if (!this.opts.quiet) this.io.err.write(table(results));
    const bad = results.filter((r) => r.status !== 'ok');
    this.io.err.write(`${results.length - bad.length} ok, ${bad.length} failed, ${(ms / 1000).toFixed(2)} s${bad.length ? `: ${bad.map((r) => r.host).join(' ')}` : ''}\n`);
  }
}

/** The summary table: host, status, exit code, duration, and the error for those that failed. */
export function table(results: readonly HostResult[]): string {
  const rows = [['HOST', 'STATUS', 'EXIT', 'TIME', ''], ...results.map((r) => [
    r.host, r.status, r.exitCode !== null ? String(r.exitCode) : r.signal ?? '-', `${(r.ms / 1000).toFixed(2)} s`,
    // One row per host: a multi-line message (docker's, ssh's) is joined onto it.
    r.error ? `${r.error.type}: ${r.error.message}`.replace(/\s*\n\s*/g, ' ') : '',
  ])];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === 2 || c === 3 ? cell.padStart(widths[c]!) : c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd()).join('\n') + '\n';
}
