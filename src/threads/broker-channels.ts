/**
 * The ports and shared flag between a main thread and its broker, made for a
 * new broker: its workerData, and the main thread's ends. Used where a broker
 * starts — a worker of this thread (src/runtime/broker.ts), or a fork's broker
 * instance in its host's broker thread (actors/fork-actor.ts).
 */
import { MessageChannel } from 'node:worker_threads';
import type { BrokerInit, BrokerParams, BrokerPorts, ForkBrokerInit, ForkBrokerParams } from './bootstrap-types.js';

/**
 * A broker's workerData and its main thread's ends of the ports between them
 * (control calls, module fetches, the flag synchronous fetches wait on).
 */
export function brokerChannels(init: ForkBrokerParams): { workerData: ForkBrokerInit; ports: Omit<BrokerPorts, 'main'> };
export function brokerChannels(init: BrokerParams): { workerData: BrokerInit; ports: Omit<BrokerPorts, 'main'> };
export function brokerChannels(init: BrokerParams): { workerData: BrokerInit; ports: Omit<BrokerPorts, 'main'> } {
  const control = new MessageChannel();
  const modules = new MessageChannel();
  const syncFlag = new SharedArrayBuffer(4);
  return {
    workerData: { ...init, control: control.port2, modules: modules.port2, syncFlag },
    ports: { control: control.port1, modules: modules.port1, syncFlag },
  };
}

