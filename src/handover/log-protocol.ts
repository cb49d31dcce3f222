import type { LogConfig } from '../config/types.js';
import type { LogStats } from '../emit/log.js';

/**
 * Messages between a proxy's event loop and its log side: the log thread (over one MessagePort) or, in a cluster,
 * the primary process (over the IPC channel of a listener process). Either channel keeps them in order.
 */

/** What the log thread is started with (a thread only: the primary tells its bytes consumed in a message). */
export interface LogThreadData {
  /** One BigInt64: bytes of entry batches the log thread has finished with (the proxy's thread bounds the rest). */
  consumed: SharedArrayBuffer;
}

export type ToLogSide =
  /** A batch of entries in WireWriter's form; its buffer is transferred to a thread (copied to a process). */
  | { op: 'entries'; bytes: Uint8Array }
  /** Start a pipeline for one loaded config; answered once its writers are open (or one that must be, failed). */
  | { op: 'open'; id: number; pipe: number; logs: LogConfig[] }
  | { op: 'flush'; id: number; pipe: number }
  | { op: 'close'; id: number; pipe: number }
  | { op: 'reopen'; id: number };

export type FromLogSide =
  /** The answer to request `id`: an error message, or the pipeline's counts when it has one. */
  | { op: 'reply'; id: number; error?: string; stats?: LogStats[] }
  /** Counts of a pipeline, sent a moment after they change. */
  | { op: 'stats'; pipe: number; stats: LogStats[] }
  /**
   * The buffers of entry batches the log thread has read, transferred back for the proxy's thread to write its
   * next batches into (a thread only): neither thread then leaves a dead buffer per batch to its garbage collector.
   */
  | { op: 'buffers'; buffers: ArrayBuffer[] };
