/** What a Select can wait on: Receivers, Latches and other Selects. */
export interface Selectable<T = unknown> {
  empty(): boolean;
  /** Takes one ready item without waiting, if there is one. */
  takeReady(): { item: T } | undefined;
  /** One listener at a time: the Select that holds this member. */
  setReadyListener(fn: (() => void) | undefined): void;
  /** True once nothing more can arrive. */
  readonly isClosed: boolean;
}
