/** mitogen-ts/core: messages, channels, contexts and errors (Mitogen's mitogen.core). */
import './master/broker-setup.js';
export { Router, DEFAULT_MAX_MESSAGE_SIZE, PROFILE_DIR } from './runtime/router.js';
export type { RouterEvent, ConnectOptions, TraceRecord } from './runtime/router.js';
export type { HandlerOptions, Policy } from './runtime/context-view.js';
export { Broker } from './runtime/broker.js';
export { Context } from './runtime/context.js';
export { Message } from './wire/message.js';
export type { MessageFields } from './wire/message.js';
export { Receiver } from './channels/receiver.js';
export type { ReceiverOptions } from './channels/receiver.js';
export { Sender } from './channels/sender.js';
export { Latch } from './channels/latch.js';
export { Select } from './channels/select.js';
export type { SelectEvent } from './channels/select.js';
export type { Selectable } from './channels/selectable.js';
export { Channel } from './channels/channel.js';
export { RemoteObservable, DEFAULT_WINDOW } from './features/observe.js';
export type { FlowStats, FlowWindow } from './features/observe.js';
export { fnRef, FnRef } from './wire/call.js';
export type { CallWithOptions } from './wire/call.js';
export { currentCall } from './runtime/current.js';
export type { CallInfo } from './runtime/call-deadline-scope.js';
export {
  MitogenError, CallError, ChannelError, StreamError, TimeoutError, LatchError,
  PasswordError, HostKeyError, EofError, CancelledError, PoolQueueFullError, FileTransferError, ExecError, SpawnError,
} from './wire/errors.js';
export type { ExecOptions, ExecResult } from './features/exec.js';
export { SpawnedProcess } from './features/spawn.js';
export { fanOut } from './features/fan-out.js';
export type { FanOut, FanOutEvent, FanOutFailure, FanOutOk, FanOutOptions, FanOutSummary, FanOutTarget } from './features/fan-out.js';
export type { SpawnOptions, ProcessExit } from './features/spawn.js';
export type { OutputStream, LineStream } from './features/spawn-output.js';
export { Pool } from './features/pool.js';
export type { FileTransferOptions, TransferProgress, ProgressSink } from './features/file-transfer.js';
export type { PoolOptions, PoolCallOptions } from './features/pool.js';
export * as handles from './wire/handles.js';
export { now } from './utils.js';
