/**
 * Well-known handles. Numbers match Mitogen's where the meaning is the same,
 * so a reader of Mitogen's docs recognises them on the wire.
 */
export const GET_MODULE = 100;
export const CALL_FUNCTION = 101;
export const FORWARD_LOG = 102;
export const ADD_ROUTE = 103;
export const DEL_ROUTE = 104;
export const ALLOCATE_ID = 105;
export const SHUTDOWN = 106;
/** Ours: ask a context's broker to start a child (Mitogen does this with a call). */
export const CONNECT = 111;
/** Ours: start a remote Observable (ctx.observe); its values flow back under credit. */
export const OBSERVE = 112;
/** Ours: a child sends its V8 code cache (or whether it took the one it was given) to the broker that started it. */
export const CODE_CACHE = 113;
/** Ours: the caller gave up on a call (callWith's timeout or signal): abort its signal there. */
export const CANCEL_CALL = 120;

/** replyTo value that marks a dead message: its body is the reason text. */
export const IS_DEAD = 999;

/** First handle the main thread hands out for replies and receivers. */
export const FIRST_DYNAMIC_HANDLE = 1000;
/** Handles at or above this belong to the broker worker, so the two never collide. */
export const BROKER_HANDLE_BASE = 0x40000000;

/** Handles the broker worker answers itself, never the main thread. */
export const BROKER_HANDLES: ReadonlySet<number> = new Set([GET_MODULE, ADD_ROUTE, DEL_ROUTE, ALLOCATE_ID, SHUTDOWN, CONNECT, CODE_CACHE]);

/** Default of `router.maxUnsentBytes`: what may wait unsent on one stream. */
export const DEFAULT_MAX_UNSENT_BYTES = 2 ** 30;

/** Ids are leased to contexts that start their own children in blocks of this many. */
export const ID_BLOCK_SIZE = 1000;
