/**
 * The child runtime's entry on its main thread, run by the first stage with
 * `require`, the parsed payload J, the compressed payload P (forwarded as-is
 * to this context's own children), the config C and an import() function I.
 *
 * Order matters: the broker worker starts first (child-boot.ts, before the
 * rest of this bundle is evaluated) and takes fds 0/1, output is captured
 * before anything can print, then the router and dispatcher are ready before the
 * first frame can arrive (frames arrive through the event loop).
 */
import { kitOpFor } from '../features/kit-remote.js';
import { startedBroker } from './child-boot.js';
import { Broker } from './broker.js';
import type { ChildConfig, RuntimePayload } from '../threads/bootstrap-types.js';
import { codeEnv } from '../threads/bootstrap-types.js';
import { cacheGiven, scheduleCodeCacheReport } from '../threads/code-cache-report.js';
import { CODE_CACHE } from '../wire/handles.js';
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
/** The main bundle's own Script (the first stage compiled it), to make a code cache from once it has run. */
declare const S: import('node:vm').Script | undefined;
/** The code caches that came with the config, when made for this Node (else null). */
declare const K: Uint8Array[] | null;

const early: [LogLevel, string][] = [];
let router: Router | undefined;

captureOutput((level, text) => {
  if (router) router.forwardLog(C.name, level, text);
  else early.push([level, text]);
});

// What the broker worker prints becomes log records like the rest (it was started before the capture).
if (startedBroker) {
  startedBroker.worker.stdout.pipe(process.stdout);
  startedBroker.worker.stderr.pipe(process.stderr);
}

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

process.on('unhandledRejection', (e) => {
  console.error(`unhandled rejection: ${(e as Error)?.stack ?? e}`);
});

// A fork's broker already runs, in its host's broker thread; a child's was started first thing.
const broker = new Broker(C.fork ? { adopt: C.fork.broker } : { started: startedBroker! }, { keepAlive: true });

router = new Router(broker, { contextId: C.contextId, parentIds: C.parentIds, name: C.name, unidirectional: C.unidirectional });
router.maxMessageSize = C.maxMessageSize;
router.exitHook = () => process.exit(0);
setCurrentRouter(router);

const importer = new ModuleImporter({ broker, nodeRequire: require, dynamicImport: I, hooksSource: J.hooks });
const dispatcher = new Dispatcher(router, importer, {
  Message, Receiver, Sender, Select, Latch, Channel, fnRef, now,
  MitogenError, CallError, ChannelError, StreamError, TimeoutError, LatchError, PasswordError, HostKeyError, EofError, CancelledError,
  // putFile/getFile and fakessh name an operation of the transfer kit this bundle holds (features/kit-remote.ts).
  kitOp: kitOpFor(router),
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

reportCodeCache();

/**
 * Tells the parent's broker what V8 made of the main bundle's cache, with a
 * fresh cache if it asked for one or sent one that was not taken: made a little after the start, so the
 * functions the first calls compiled lazily are in it, off the boot's path.
 */
function reportCodeCache(): void {
  if (typeof S === 'undefined' || C.fork) return;
  // For tests and debugging: what this child's main bundle did with its cache.
  Object.defineProperty(globalThis, Symbol.for('mitogen.codeCache'), { value: { main: cacheGiven(S) }, configurable: true });
  scheduleCodeCacheReport('main', S, { env: codeEnv(), want: C.cw === true, offered: C.cc !== undefined, maxMessageSize: () => C.maxMessageSize },
    (report) => router!.route(Message.encoded(report, { dstId: C.parentIds[0]!, handle: CODE_CACHE })), () => broker.isShutdown);
}
