import type { LogConfig } from '../config/types.js';
import type { LogStats } from '../emit/log.js';

/** Messages between the proxy's thread and the log thread (one MessagePort, so they arrive in order). */

/** What the log thread is started with. */
export interface LogThreadData {
  /** One BigInt64: bytes of entry batches the log thread has finished with (the proxy's thread bounds the rest). */
  consumed: SharedArrayBuffer;
}

export type ToLogThread =
  /** A batch of entries in WireWriter's form; its buffer is transferred. */
  | { op: 'entries'; bytes: Uint8Array }
  /** Start a pipeline for one loaded config; answered once its writers are open (or one that must be, failed). */
  | { op: 'open'; id: number; pipe: number; logs: LogConfig[] }
  | { op: 'flush'; id: number; pipe: number }
  | { op: 'close'; id: number; pipe: number }
  | { op: 'reopen'; id: number };

export type FromLogThread =
  /** The answer to request `id`: an error message, or the pipeline's counts when it has one. */
  | { op: 'reply'; id: number; error?: string; stats?: LogStats[] }
  /** Counts of a pipeline, sent a moment after they change. */
  | { op: 'stats'; pipe: number; stats: LogStats[] };
