/**
 * The child runtime's entry on its main thread, run by the first stage with
 * `require`, the parsed payload J, the compressed payload P (forwarded as-is
 * to this context's own children), the config C and an import() function I.
 *
 * Order matters: output is captured before anything can print, the broker
 * worker takes fds 0/1, then the router and dispatcher are ready before the
 * first frame can arrive (frames arrive through the event loop).
 */
import { Broker } from './broker.js';
import type { ChildConfig, RuntimePayload } from '../threads/bootstrap-types.js';
import { Dispatcher } from './dispatcher.js';
import { serveObservables } from '../features/observe-server.js';
import { setCurrentRouter } from './current.js';
import type { LogLevel } from './log.js';
import { ModuleImporter } from '../modules/module-importer.js';
import { captureOutput } from './output-capture.js';
import { closeInheritedTerminals } from './inherited-fds.js';
import { Router } from './router.js';
import { Message } from '../wire/message.js';
import { Receiver } from '../channels/receiver.js';
import { Sender } from '../channels/sender.js';
import { Select } from '../channels/select.js';
import { Latch } from '../channels/latch.js';
import { Channel } from '../channels/channel.js';
import { fnRef } from '../wire/call.js';
import {
  CallError, CancelledError, ChannelError, EofError, HostKeyError, LatchError, MitogenError, PasswordError, StreamError, TimeoutError,
} from '../wire/errors.js';

const now = (): number => (performance.timeOrigin + performance.now()) / 1000;

declare const J: RuntimePayload;
declare const P: Uint8Array;
declare const C: ChildConfig;
declare const I: (specifier: string) => Promise<Record<string, unknown>>;

const early: [LogLevel, string][] = [];
let router: Router | undefined;

captureOutput((level, text) => {
  if (router) router.forwardLog(C.name, level, text);
  else early.push([level, text]);
});

// A fork shares its host's process: its fds are the host's, not inherited strays.
if (!C.fork) closeInheritedTerminals();

process.on('uncaughtException', (e) => {
  // Before the router exists nothing can be forwarded: say it on stderr, which
  // the parent quotes in its bootstrap error, and stop rather than linger.
  if (!router) {
    require('node:fs').writeSync(2, `mitogen: the runtime failed to start: ${e.stack ?? e}\n`);
    process.exit(1);
  }
  console.error(`uncaught exception: ${e.stack ?? e}`);
});

// A working directory that no longer exists (or lies outside a container's
// root, after nsenter) makes process.cwd() throw: start from / instead.
if (!C.fork) {
  try { process.cwd(); } catch { try { process.chdir('/'); } catch { /* nothing better to do */ } }
}
process.on('unhandledRejection', (e) => {
  console.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`);
});

// A fork's broker already runs, in its host's broker thread; a child starts its own.
const broker = new Broker(C.fork ? { adopt: C.fork.broker } : {
  source: J.broker,
  init: {
    contextId: C.contextId,
    parentIds: C.parentIds,
    name: C.name,
    maxMessageSize: C.maxMessageSize,
    unidirectional: C.unidirectional,
    debug: C.debug,
    role: 'child',
    payload: P,
    parentFds: { in: 0, out: 1 },
  },
}, { keepAlive: true });

router = new Router(broker, { contextId: C.contextId, parentIds: C.parentIds, name: C.name, unidirectional: C.unidirectional });
router.maxMessageSize = C.maxMessageSize;
router.exitHook = () => process.exit(0);
setCurrentRouter(router);

const importer = new ModuleImporter({ broker, nodeRequire: require, dynamicImport: I, hooksSource: J.hooks });
const dispatcher = new Dispatcher(router, importer, {
  Message, Receiver, Sender, Select, Latch, Channel, fnRef, now,
  MitogenError, CallError, ChannelError, StreamError, TimeoutError, LatchError, PasswordError, HostKeyError, EofError, CancelledError,
});

serveObservables(router, (body) => dispatcher.resolve(body));

// A fork's onStart runs with its own Context before any call is dispatched.
if (C.fork?.onStart) {
  const onStart = C.fork.onStart;
  dispatcher.gate((async () => {
    const fn = await dispatcher.resolve([onStart, null, null, [], null], { ungated: true });
    await fn(router!.myself());
  })());
}

for (const [level, text] of early.splice(0)) router.forwardLog(C.name, level, text);
