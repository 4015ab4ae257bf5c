/**
 * The lines a child prints on stdout as it boots (docs/protocol.md): the
 * first stage writes the first two, the child's broker the third, and the
 * parent's bootstrap reads them. One spelling, shared by both sides.
 */
/** The first stage runs and waits for the runtime on stdin. */
export const MITO000 = 'MITO000';
/** The runtime and config were read and the runtime is being started. */
export const MITO001 = 'MITO001';
/** The child's broker owns its fds: binary frames follow. */
export const MITO002 = 'MITO002';
/** The stage markers in the order they arrive. */
export const STAGE_MARKERS = [MITO000, MITO001, MITO002] as const;
/** What all stage markers start with. */
export const MARKER_PREFIX = 'MITO00';
/** Starts the line an interpreter too old for the runtime prints, followed by its version. */
export const MITOVER = 'MITOVER ';
