import type { FromLogSide, ToLogSide } from './log-protocol.js';

/** What the proxy's side hears from the log side. */
export interface LogLinkEvents {
  message(msg: FromLogSide): void;
  /** The log side is gone (crashed, exited, or its channel closed): nothing sent from now on arrives. */
  died(err: Error): void;
}

/**
 * The channel from a proxy's event loop to the event loop that encodes and writes its logs: a worker thread of
 * the same process (WorkerThreadLink), or the primary process of a cluster (PrimaryProcessLink). Messages arrive
 * in the order they were posted.
 */
export interface LogLink {
  /** What the log side is, for messages: "log thread", "log process". */
  readonly name: string;
  /**
   * Longest time an entry waits on the proxy's side before its batch is handed over. Each hand-over wakes the
   * other side, a thread or a process; a process costs more to wake, so it gets bigger batches.
   */
  readonly batchDelayMs: number;
  /** Starts the log side; events are delivered from then on. */
  start(events: LogLinkEvents): void;
  /** `transfer`: buffers handed over instead of copied (when the channel can). */
  post(msg: ToLogSide, transfer?: ArrayBuffer[]): void;
  /** Bytes of entry batches the log side has finished with (what is in flight is sent minus this). */
  consumed(): number;
  /** Keep the process alive (answers are awaited) / let it end. */
  ref(): void;
  unref(): void;
  /** Ends the link (the log side's pipelines are closed already). */
  stop(): Promise<void>;
}
