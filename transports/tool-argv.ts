/** A tool option (`dockerPath`, `lxcPath`, …): a path, or an argv list to run it through (e.g. ['sudo', 'docker']). */
export function toolArgv(path: string | readonly string[] | undefined, fallback: string): string[] {
  return typeof path === 'object' ? [...path] : [path ?? fallback];
}
