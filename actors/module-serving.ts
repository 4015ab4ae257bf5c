/**
 * A broker's module forwarding: its ModuleActor, fed by the master's own
 * files (a source the master's broker entry passes in) or by the parent, and
 * the ports this context's threads ask on (the synchronous CommonJS loader,
 * the ESM hooks).
 */
import type { MessagePort } from 'node:worker_threads';
import { ChannelError } from '../src/wire/errors.js';
import { GET_MODULE } from '../src/wire/handles.js';
import type { ModulePolicy } from '../src/modules/module-policy.js';
import type { BrokerInit } from '../src/threads/bootstrap-types.js';
import { ModuleActor, parentModuleSource } from './module-actor.js';
import type { ModuleSource } from './module-actor.js';
import type { ModuleReply, ModuleRequest } from '../src/modules/module-wire.js';
import type { PendingRequests } from './pending-requests.js';

export interface MasterSourceOptions {
  esbuildPath?: string;
  /** Where mitogen-ts is installed: the parent of the runtime's own packages, and of cjs-module-lexer. */
  moduleBase?: string;
  policy(): ModulePolicy;
}

/** The master's module source (src/master/module-source.ts): never in a bundle a child is sent. */
export type MasterSourceFactory = (o: MasterSourceOptions) => ModuleSource;

export class ModuleServing {
  readonly actor: ModuleActor;
  #policy: ModulePolicy = { allow: [], deny: [] };
  readonly #syncFlag: Int32Array;

  constructor(init: BrokerInit, requests: PendingRequests, masterSource?: MasterSourceFactory) {
    let source: ModuleSource;
    if (init.role === 'master') {
      // The child's broker bundle has none: the master's must be started from its own entry.
      if (!masterSource) throw new Error('no module source of the master\'s: start its broker from src/master/broker-worker.ts');
      source = masterSource({ esbuildPath: init.esbuildPath, moduleBase: init.moduleBase, policy: () => this.#policy });
    } else {
      source = parentModuleSource((req) => requests.request(init.parentIds[0]!, GET_MODULE, req).catch((e: Error) => {
        throw new ChannelError(`fetching module ${req.spec} (from ${req.parent}) for ${init.name}: ${e.message}`);
      }) as Promise<ModuleReply>);
    }
    this.actor = new ModuleActor(source);
    this.#syncFlag = new Int32Array(init.syncFlag);
    this.servePort(init.modules, true);
  }

  setPolicy(p: ModulePolicy): void {
    this.#policy = p;
    this.actor.clear();
  }

  /** Answers module requests on `p`; `sync`: the asker blocks on the shared flag until the reply is posted. */
  servePort(p: MessagePort, sync: boolean): void {
    p.on('message', (m: { id: number; req: ModuleRequest }) => {
      void this.actor.serve(m.req, { key: p, remote: false }).then((r) => {
        p.postMessage({ id: m.id, reply: r });
        if (sync) {
          Atomics.store(this.#syncFlag, 0, 1);
          Atomics.notify(this.#syncFlag, 0);
        }
      });
    });
  }
}
