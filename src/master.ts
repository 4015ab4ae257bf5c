/** mitogen-ts/master: the master's Router and Broker (Mitogen's mitogen.master). */
import './master/broker-setup.js';
export { Router } from './runtime/router.js';
export { Broker } from './runtime/broker.js';
export { runtimePayload, buildRuntimePayload } from './master/runtime-payload.js';
