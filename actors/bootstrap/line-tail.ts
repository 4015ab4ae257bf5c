/** How many lines of what a target printed an error message quotes. */
export const KEPT_LINES = 100;

/** Keeps the last KEPT_LINES lines of text a target printed, for error messages. */
export class LineTail {
  #lines: string[] = [];
  #partial = '';
  push(text: string, onLine?: (line: string) => void): void {
    const parts = (this.#partial + text).split(/\r?\n/);
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      onLine?.(line);
      this.#lines.push(line);
      if (this.#lines.length > KEPT_LINES) this.#lines.shift();
    }
  }
  text(): string {
    const all = this.#partial ? [...this.#lines, this.#partial] : this.#lines;
    return all.slice(-KEPT_LINES).join('\n');
  }
}
