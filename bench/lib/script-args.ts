/** The command-line options of the bench's stand-alone scripts (bench/floor/hops.ts, bench/profile/*): `--name value`. */
export function stringArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] ?? dflt : dflt;
}

export function numberArg(name: string, dflt: number): number {
  return Number(stringArg(name, String(dflt)));
}

/** One function for every call, as the bench's figures send it: its source is cached by identity (a fresh closure per call would miss). */
export const noop = (): null => null;
