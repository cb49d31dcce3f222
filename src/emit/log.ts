import type { LogConfig } from '../config/types.js';
import type { Encoder } from '../encoders/encoder.js';
import { partsLength } from '../encoders/pieces.js';
import { createEncoder } from '../encoders/registry.js';
import { OutputStuckError, OutputUnusableError } from '../writers/deadline.js';
import type { WriterPool } from '../writers/pool.js';
import type { WriterOptions } from '../writers/writer.js';
import { LEVEL_RANK, type Entry, type Level } from '../core/entry.js';
import { nowMs } from '../core/clock.js';
import { loggerAllowed } from './match.js';
import { LogQueue, type QueueEvents } from './queue.js';
import { Sampler } from './sampler.js';

export interface LogStats {
  name: string;
  written: number;
  sampledOut: number;
  dropped: number;
  failed: number;
  /** Entries this format has no line for (request entries in a line format, …): not a loss. */
  skipped: number;
  /** Log lag now: the age of the oldest entry accepted and not yet written, ms. */
  lagMs: number;
  /** The largest log lag seen: the age of an entry when its write settled, ms. */
  maxLagMs: number;
  /** Bytes its queues hold now against `queue_bytes` (pending, and the batch being written). */
  queuedBytes: number;
}

export interface LogReporter {
  writeFailed(log: string, writer: string, err: Error): void;
  writeRecovered(log: string, writer: string): void;
  dropped(log: string): void;
}

const PLACEHOLDER = /\{(forward\.id|listen\.port)\}/g;

/**
 * One configured log: include/exclude → level → sampling → encoder → bounded queue → writer. A writer whose
 * filename has {forward.id}/{listen.port} becomes one queue and writer per forward.
 */
export class Log {
  /** Entries this log's format has no line for (clf given a request entry): neither written nor lost. */
  private skipped = 0;
  /** Size of the last entry encoded (as push() counts it): what the next one probably needs. */
  private lastEntrySize = 0;
  private readonly sinks = new Map<string, LogQueue>();
  private readonly minRank: number;
  private readonly sampler: Sampler | undefined;
  private readonly encoder: Encoder;
  private readonly templated: boolean;

  constructor(
    readonly cfg: LogConfig,
    private readonly pool: WriterPool,
    private readonly reporter: LogReporter,
  ) {
    this.minRank = LEVEL_RANK[cfg.level];
    this.sampler = cfg.sampling ? new Sampler(cfg.sampling) : undefined;
    this.templated = typeof cfg.writer.filename === 'string' && PLACEHOLDER.test(cfg.writer.filename);
    PLACEHOLDER.lastIndex = 0;
    // The encoder needs to know whether it writes to a terminal; a templated writer is always a file.
    const probe = this.templated ? undefined : this.sink('');
    this.encoder = createEncoder(cfg.encoder, { logCredentials: cfg.logCredentials, isTTY: probe?.writer.isTTY ?? false });
  }

  get name(): string {
    return this.cfg.name;
  }

  /** Whether an entry of this logger name and level gets past include/exclude and the level (sampling aside). */
  shows(logger: string, level: Level): boolean {
    return LEVEL_RANK[level] >= this.minRank && loggerAllowed(logger, this.cfg.include, this.cfg.exclude);
  }

  accept(entry: Entry): void {
    if (LEVEL_RANK[entry.level] < this.minRank) return;
    if (this.sampler && !this.sampler.keep(entry.level, entry.msg, entry.ts)) return;
    const queue = this.sink(this.templated ? sinkKey(entry) : '');
    const entries = this.encoder.entriesIn?.(entry) ?? 1;
    // A queue with less room than this log's last entry took is full for all it matters: under overload that is
    // most of the time, and encoding (escaping a 60 KB body) only to drop would spend the log thread on nothing,
    // starving the logs that keep up. Counted as any drop.
    if (queue.room() < this.lastEntrySize) {
      queue.refuse(entries);
      return;
    }
    const bytes = this.encoder.encodeParts !== undefined ? this.encoder.encodeParts(entry) : this.encoder.encode(entry);
    if (bytes === null) {
      if (entries !== 0) this.skipped++;
      return;
    }
    this.lastEntrySize = typeof bytes === 'string' || Buffer.isBuffer(bytes) ? bytes.length : partsLength(bytes);
    queue.push(bytes, entry.level, entry.ts, entries);
  }

  private sink(key: string): LogQueue {
    let q = this.sinks.get(key);
    if (q) return q;
    const options = this.templated ? fillPlaceholders(this.cfg.writer, key) : this.cfg.writer;
    const writer = this.pool.acquire(options, this.cfg.outputDeadlineMs);
    const events: QueueEvents = {
      onFailure: (err) => this.reporter.writeFailed(this.name, writer.description, err),
      onRecovery: () => this.reporter.writeRecovered(this.name, writer.description),
      onDrop: () => this.reporter.dropped(this.name),
    };
    q = new LogQueue(writer, this.cfg.queueBytes, events);
    this.sinks.set(key, q);
    return q;
  }

  stats(): LogStats {
    let written = 0;
    let dropped = 0;
    let failed = 0;
    let lagMs = 0;
    let maxLagMs = 0;
    let queuedBytes = 0;
    const now = nowMs();
    for (const q of this.sinks.values()) {
      written += q.written;
      dropped += q.dropped;
      failed += q.failed;
      lagMs = Math.max(lagMs, q.lagMs(now));
      maxLagMs = Math.max(maxLagMs, q.maxLagMs);
      queuedBytes += q.heldBytes;
    }
    return { name: this.name, written, sampledOut: this.sampler?.sampledOut ?? 0, dropped, failed, skipped: this.skipped, lagMs, maxLagMs, queuedBytes };
  }

  /**
   * Resolves once each writer opened. Rejects, naming the log and the output, when one that must be up to start
   * (strictStart) could not open, or when one is stuck or can never work; any other failed open stays reported
   * and is retried on every write.
   */
  async ready(): Promise<void> {
    await Promise.all(
      [...this.sinks.values()].map(({ writer }) =>
        writer.open().catch((err: Error) => {
          if (writer.strictStart || err instanceof OutputStuckError || err instanceof OutputUnusableError) {
            throw new Error(`log "${this.name}": ${err.message}`);
          }
        }),
      ),
    );
  }

  async flush(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((q) => q.idle()));
  }

  /** Writes what is queued, then closes each writer (a shared one really closes with its last user). */
  async close(): Promise<void> {
    await Promise.all([...this.sinks.values()].map((q) => q.close()));
  }
}

/** Process entries have no forward: they go to the file named as if the forward were "kflog". */
function sinkKey(entry: Entry): string {
  if (entry.kind === 'process') return 'kflog\u00000';
  return entry.forward.id + '\u0000' + entry.forward.listen_port;
}

function fillPlaceholders(options: WriterOptions, key: string): WriterOptions {
  const [id, port] = key.split('\u0000') as [string, string];
  const filename = String(options.filename).replace(PLACEHOLDER, (_m, name: string) => (name === 'forward.id' ? id : port));
  return { ...options, filename };
}

/** The counts of one log across configs (and processes) summed by log name, for the exit summary and stats. */
export function mergeStats(all: LogStats[]): LogStats[] {
  const byName = new Map<string, LogStats>();
  for (const s of all) {
    const m = byName.get(s.name);
    if (!m) {
      byName.set(s.name, { ...s });
      continue;
    }
    m.written += s.written;
    m.sampledOut += s.sampledOut;
    m.dropped += s.dropped;
    m.failed += s.failed;
    m.skipped += s.skipped;
    m.queuedBytes += s.queuedBytes;
    // Lag is not a count: the worst of the configs (and processes) merged.
    m.lagMs = Math.max(m.lagMs, s.lagMs);
    m.maxLagMs = Math.max(m.maxLagMs, s.maxLagMs);
  }
  return [...byName.values()];
}

