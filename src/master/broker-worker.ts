/**
 * The master's broker worker: the broker every context runs, given what only
 * the master has — its module source, which reads its own files to serve
 * modules (the resolver, the transpiler, the module policy). Children are
 * sent actors/broker-worker.ts alone; test/unit/payload-contents.test.ts checks
 * that none of this rides along.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MasterBrokerInit } from '../threads/bootstrap-types.js';
import { BrokerCore } from '../../actors/broker-core.js';
import { masterModuleSource } from './module-source.js';

new BrokerCore(workerData as MasterBrokerInit, parentPort!, { moduleSource: masterModuleSource });
