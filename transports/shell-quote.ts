/** POSIX shell quoting: each word in single quotes, so any login shell reads it back verbatim. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
