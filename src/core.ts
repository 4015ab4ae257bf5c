/** mitogen-ts/core: messages, channels, contexts and errors (Mitogen's mitogen.core). */
import './master/broker-setup.js';
export { Router, DEFAULT_MAX_MESSAGE_SIZE, PROFILE_DIR } from './router.js';
export type { RouterEvent, ConnectOptions } from './router.js';
export type { HandlerOptions, Policy } from './context-view.js';
export { Broker } from './broker.js';
export { Context } from './context.js';
export { Message } from './message.js';
export type { MessageFields } from './message.js';
export { Receiver } from './receiver.js';
export type { ReceiverOptions } from './receiver.js';
export { Sender } from './sender.js';
export { Latch } from './latch.js';
export { Select } from './select.js';
export type { SelectEvent } from './select.js';
export type { Selectable } from './selectable.js';
export { Channel } from './channel.js';
export { RemoteObservable, DEFAULT_WINDOW } from './observe.js';
export type { FlowStats, FlowWindow } from './observe.js';
export { fnRef, FnRef } from './call.js';
export type { CallWithOptions } from './call.js';
export { currentCall } from './current.js';
export type { CallInfo } from './call-deadline-scope.js';
export {
  MitogenError, CallError, ChannelError, StreamError, TimeoutError, LatchError,
  PasswordError, HostKeyError, EofError, CancelledError, PoolQueueFullError, FileTransferError, ExecError, SpawnError,
} from './errors.js';
export type { ExecOptions, ExecResult } from './exec.js';
export { SpawnedProcess } from './spawn.js';
export { fanOut } from './fan-out.js';
export type { FanOut, FanOutEvent, FanOutFailure, FanOutOk, FanOutOptions, FanOutSummary, FanOutTarget } from './fan-out.js';
export type { SpawnOptions, ProcessExit } from './spawn.js';
export type { OutputStream, LineStream } from './spawn-output.js';
export { Pool } from './pool.js';
export type { FileTransferOptions, TransferProgress, ProgressSink } from './file-transfer.js';
export type { PoolOptions, PoolCallOptions } from './pool.js';
export * as handles from './handles.js';
export { now } from './utils.js';
