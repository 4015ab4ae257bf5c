/**
 * The master's broker worker: the broker every context runs, plus what only
 * the master does — reading its own files to serve modules (the resolver,
 * the transpiler, the module policy). Children are sent actors/broker-worker.ts
 * alone; test/payload-contents.test.ts checks that none of this rides along.
 */
import './source-provided.js';
import '../../actors/broker-worker.js';
