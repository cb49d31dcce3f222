import type { Level } from '../core/entry.js';
import type { ModuleSchema } from '../core/module-options.js';

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
  /**
   * When true, an open() that fails keeps kflog from starting (net/syslog with soft_start off). Other writers let
   * kflog start anyway: their fault is reported and they retry on every write until it clears.
   */
  readonly strictStart?: boolean;
  /** Resolves when the batch is handed to the OS (or the peer); rejects when it could not be written. */
  write(batch: string | Buffer): Promise<void>;
  /**
   * True when write() keeps nothing of the batch once it resolved (the file writer: its bytes are in the file).
   * The queue then writes later batches into the same buffer, instead of leaving one dead buffer per batch for the
   * garbage collector (under load, tens of MB a second of external memory no scavenge frees).
   */
  readonly releasesBatch?: boolean;
  /**
   * Optional, for writers that frame or label each entry (net, syslog): called instead of write() with the batch
   * still split into entries, each with its level and time. Resolves when the writer has taken the batch; what
   * becomes of entries it could not take or later could not deliver is told through batch.account.
   */
  writeEntries?(batch: EntryBatch): Promise<void>;
  /**
   * Optional: the writer reports faults no write() rejection shows (a receiver that went away while lines are
   * buffered, a file deleted under it), and their end — once per change of state.
   */
  watch?(health: WriterHealth): void;
  /** Reopen the underlying resource (SIGUSR1, for an external logrotate). Optional. */
  reopen?(): Promise<void>;
  close(): Promise<void>;
}

/** A batch as entries, for writers that need entry boundaries (framing) or levels (syslog severity). */
export interface EntryBatch {
  readonly entries: ReadonlyArray<string | Buffer>;
  /** Level of each entry, same index. */
  readonly levels: ReadonlyArray<Level>;
  /** Time of each entry, epoch milliseconds, same index. */
  readonly times: ReadonlyArray<number>;
  readonly account: EntryAccount;
}

/** How a writer that keeps entries past writeEntries() accounts for them, so no loss goes uncounted. */
export interface EntryAccount {
  /**
   * n entries of the batch being written were not taken — the writer's own bounded buffer was full — and are
   * counted as dropped. Only called before that writeEntries() settles.
   */
  overflow(n: number): void;
  /** n entries taken earlier were never delivered (receiver unreachable at shutdown, datagram refused). */
  undelivered(n: number, err: Error): void;
}

export interface WriterHealth {
  /** The output stopped working; reported once until up(). */
  down(err: Error): void;
  /** The output works again. */
  up(): void;
}

/** Options as validated by config.schema.json, placeholders already substituted. */
export type WriterOptions = { output: string } & Record<string, unknown>;

/**
 * What one output's file gives the registry (as a Caddy module does): its name, its options' schema, their
 * defaults, how options become settings and settings a writer. settings() runs when the config is loaded, so
 * `kflog validate` and `kflog run` refuse the same options; create() runs when a log opens its output.
 */
export interface WriterModule<S> {
  /** `"output": name` in a config; config.schema.json's output enum lists every registered name. */
  readonly name: string;
  /**
   * Its options as JSON Schema, absent when it takes none: config.schema.json is built with them at
   * $defs.writer_<name> (writer_file), so a module's options are described in its own file only.
   */
  readonly schema?: ModuleSchema;
  /**
   * Every default settings() applies, in the config's spelling, each stated here once with its reason:
   * config.schema.json's build gives them to the schema's properties as their `default`s.
   */
  readonly defaults: Readonly<Record<string, unknown>>;
  /**
   * The one encoder format this output takes, when it needs entries in a fixed shape rather than any format's
   * bytes (the store reads each entry's fields). A log with this output gets that encoder when it names none, and
   * a log naming another is refused at load.
   */
  readonly encoder?: string;
  /** Pure: options with the defaults applied, checked. Throws an OptionError naming the key kflog cannot use. */
  settings(options: WriterOptions): S;
  create(settings: S): Writer;
}
