/**
 * The broker worker of every child: the thread that owns the context's
 * streams (actors/broker-core.ts). The master's runs src/master/broker-worker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChildBrokerInit } from '../src/threads/bootstrap-types.js';
import { BrokerCore } from './broker-core.js';

new BrokerCore(workerData as ChildBrokerInit, parentPort!);
