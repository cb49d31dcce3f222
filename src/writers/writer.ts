/**
 * One output. The pipeline hands a writer whole batches (many encoded entries joined), never single entries, and
 * never calls write() again before the previous write() settled — so a writer needs no queue of its own.
 */
export interface Writer {
  /** Identity: two logs whose writers have the same key share one open writer (reference-counted). */
  readonly key: string;
  /** Human description for messages, e.g. "file /var/log/kflog/access.log". */
  readonly description: string;
  /** True when the output is a terminal (encoders may colour). */
  readonly isTTY: boolean;
  open(): Promise<void>;
  /** Resolves when the batch is handed to the OS (or the peer); rejects when it could not be written. */
  write(batch: string | Buffer): Promise<void>;
  /** Reopen the underlying resource (SIGUSR1, for an external logrotate). Optional. */
  reopen?(): Promise<void>;
  close(): Promise<void>;
}

/** Options as validated by config.schema.json, placeholders already substituted. */
export type WriterOptions = { output: string } & Record<string, unknown>;

export type WriterFactory = (options: WriterOptions) => Writer;
