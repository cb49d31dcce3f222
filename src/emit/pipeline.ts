import { Admission } from './match.js';
import type { LogConfig } from '../config/types.js';
import { WriterPool } from '../writers/pool.js';
import { nowMs } from '../core/clock.js';
import type { Entry, Level, ProcessEntry } from '../core/entry.js';
import { DropReporter } from './drop-reporter.js';
import { Log, type LogReporter, type LogStats } from './log.js';

/**
 * What the proxy logs through: the pipeline on the proxy's own thread (Pipeline) or on the log thread
 * (RemotePipeline). emit() is synchronous and never waits.
 */
export interface EntrySink {
  /** Whether some log may admit entries of this logger name (if not, the proxy need not build them). */
  wants(logger: string): boolean;
  emit(entry: Entry): void;
  logger(name: string): ProcessLogger;
  /** Resolves when every writer opened (rejects when one that must be up to start could not). */
  ready(): Promise<void>;
  /** Resolves when everything emitted so far has been handed to its writer (or counted). */
  flush(): Promise<void>;
  /** Writes what is pending, closes the writers (shared ones with their last user). */
  close(): Promise<void>;
  /** Per-log counts: exact after flush() or close(), at most a moment old otherwise. */
  stats(): LogStats[];
  /** SIGUSR1: reopen every file, for an external logrotate. */
  reopen(): Promise<void>;
}

/** A named source of process entries (logger "kflog", "kube.portforward.<id>"). */
export class ProcessLogger {
  constructor(
    private readonly pipeline: Pick<EntrySink, 'emit'>,
    readonly name: string,
  ) {}
  log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    const entry: ProcessEntry = { kind: 'process', ts: nowMs(), level, logger: this.name, msg, fields };
    this.pipeline.emit(entry);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }
}

/**
 * The configured logs. emit() is synchronous and never waits: each admitting log encodes the entry and appends
 * it to its bounded queue. Routing by logger name is computed once per name.
 */
export class Pipeline implements EntrySink, LogReporter {
  readonly logs: Log[];
  private readonly admission: Admission<Log>;
  private readonly kflog: ProcessLogger;
  private readonly drops = new DropReporter(() => this.reportDrops());
  private lastDropCounts = new Map<string, number>();

  /**
   * `pool` is shared by the pipelines of successive configs on reload: a file both configs write stays open
   * (reference-counted) instead of being closed by the old pipeline and reopened by the new one.
   */
  constructor(
    configs: LogConfig[],
    private readonly pool: WriterPool = new WriterPool(),
  ) {
    this.kflog = new ProcessLogger(this, 'kflog');
    this.logs = configs.map((c) => new Log(c, this.pool, this));
    this.admission = new Admission(this.logs, (l) => l.cfg);
  }

  logger(name: string): ProcessLogger {
    return name === 'kflog' ? this.kflog : new ProcessLogger(this, name);
  }

  /** The logs that may receive entries of this logger name (empty: the proxy need not build the entry at all). */
  route(logger: string): Log[] {
    return this.admission.of(logger);
  }

  wants(logger: string): boolean {
    return this.route(logger).length > 0;
  }

  emit(entry: Entry): void {
    const logs = this.route(entry.logger);
    for (let i = 0; i < logs.length; i++) logs[i]!.accept(entry);
  }

  stats(): LogStats[] {
    return this.logs.map((l) => l.stats());
  }

  async flush(): Promise<void> {
    await Promise.all(this.logs.map((l) => l.flush()));
  }

  async close(): Promise<void> {
    // Drops of the last second are still told, before the logs flush and close.
    this.drops.close();
    await Promise.all(this.logs.map((l) => l.close()));
  }

  /**
   * Resolves when every writer opened. A writer that must not start without its receiver (net/syslog with
   * soft_start false) rejects here, as does one stuck past its deadline or one that can never work (a file log
   * whose path is a FIFO); every other writer retries on its own and resolves.
   */
  async ready(): Promise<void> {
    await Promise.all(this.logs.map((l) => l.ready()));
  }

  /** SIGUSR1: reopen every file, for an external logrotate. */
  reopen(): Promise<void> {
    return this.pool.reopenAll();
  }

  writeFailed(log: string, writer: string, err: Error): void {
    this.kflog.error('log writer failed', { log, writer, error: err.message });
    // `kflog run | head -1`: the reader went away for good. When no log shows kflog's errors on the terminal (the
    // closed stdout may have been the only one), say it there anyway, once — the failure state lasts until a
    // write succeeds, which a closed pipe never allows.
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'EPIPE' || code === 'ECONNRESET') && writer !== 'stderr' && !this.errorsOnStderr()) {
      process.stderr.write(`kflog: log "${log}": ${writer} was closed by its reader (${code}); what it is sent from now on counts as failed\n`);
    }
  }

  private errorsOnStderr(): boolean {
    return this.logs.some((l) => l.cfg.writer.output === 'stderr' && l.shows('kflog', 'error'));
  }

  writeRecovered(log: string, writer: string): void {
    this.kflog.info('log writer recovered', { log, writer });
  }

  dropped(_log: string): void {
    // At most one warning a second, however many entries are dropped; the last one is told at close.
    this.drops.dropped();
  }

  private reportDrops(): void {
    for (const s of this.stats()) {
      const before = this.lastDropCounts.get(s.name) ?? 0;
      if (s.dropped > before) {
        this.lastDropCounts.set(s.name, s.dropped);
        this.kflog.warn('log queue full, entries dropped', {
          log: s.name,
          dropped: s.dropped - before,
          dropped_total: s.dropped,
          written: s.written,
          failed: s.failed,
          lag_ms: s.lagMs,
        });
      }
    }
  }
}
