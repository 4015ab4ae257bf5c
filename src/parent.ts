/** mitogen-ts/parent: connection methods and their plumbing (Mitogen's mitogen.parent). */
import './master/broker-setup.js';
export { Router } from './runtime/router.js';
export type { ConnectOptions } from './runtime/router.js';
export { local } from '../transports/local.js';
export type { LocalOptions } from '../transports/local.js';
export type { Transport } from '../transports/transport.js';
export { firstStage, firstStageArgv } from './wire/first-stage.js';
