/**
 * mitogen-ts: Mitogen for TypeScript and Node.js. Every public name, from
 * one import; the subpaths (core, master, parent, fakessh, utils) mirror
 * Mitogen's modules.
 */
export * from './core.js';
export * from './parent.js';
export { runtimePayload, buildRuntimePayload } from './master.js';
export * from './utils.js';
export * as fakessh from './fakessh.js';
