/**
 * The broker worker of every child: the thread that owns the context's
 * streams (actors/broker-core.ts). The master's runs src/master/broker-worker.ts.
 * The first stage starts the worker before this bundle exists; its loader
 * (src/runtime/broker-start.ts) compiles the bundle and calls it with its
 * own Script and its init.
 */
import type { Script } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { ChildBrokerInit } from '../src/threads/bootstrap-types.js';
import { BrokerCore } from './broker-core.js';

/** This bundle's own Script, to make a code cache from once it has run. */
declare const S: Script;
/** Its init: the ports and the child's settings. */
declare const D: ChildBrokerInit;

new BrokerCore(D, parentPort!).reportCodeCache(S);
