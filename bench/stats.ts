/** Median, min and max of repeated measurements. */
export interface Stat { median: number; min: number; max: number; n: number; unit: string }

export function stat(samples: number[], unit: string): Stat {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)]!, min: s[0]!, max: s[s.length - 1]!, n: s.length, unit };
}
