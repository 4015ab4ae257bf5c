/**
 * The broker worker of every child: the thread that owns the context's
 * streams (actors/broker-core.ts). The master's runs src/master/broker-worker.ts.
 */
import type { Script } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { ChildBrokerInit } from '../src/threads/bootstrap-types.js';
import { BrokerCore } from './broker-core.js';

/** This bundle's own Script, when the worker's loader compiled it with a code cache (src/runtime/broker-start.ts). */
declare const S: Script | undefined;
/** Its init, given to the bundle by that loader (the first stage starts the worker before it exists). */
declare const D: ChildBrokerInit | undefined;

const core = new BrokerCore(typeof D !== 'undefined' && D ? D : workerData as ChildBrokerInit, parentPort!);
if (typeof S !== 'undefined') core.reportCodeCache(S);
