import type { LogConfig } from '../config/types.js';
import { WireWriter } from './wire.js';
import { createEncoder } from '../encoders/registry.js';
import { LEVEL_RANK, type Entry } from '../core/entry.js';
import type { LogLink } from './log-link.js';
import type { LogStats } from '../emit/log.js';
import { DropReporter } from '../emit/drop-reporter.js';
import { Admission } from '../emit/match.js';
import { ProcessLogger, type EntrySink } from '../emit/pipeline.js';
import { WorkerThreadLink } from './thread-link.js';
import type { FromLogSide, ToLogSide } from './log-protocol.js';

/** A batch this big goes at once. */
const BATCH_BYTES = 256 * 1024;
/**
 * Bytes sent and not yet taken by the log side. Past this the log side is not keeping up (each log's own
 * queue bound then applies there): further entries are dropped here, and counted, rather than piling up. 8 MiB
 * is 32 full batches, far more than a log side that keeps up ever holds; past it, more is only resident memory.
 */
export const MAX_IN_FLIGHT = 8 * 1024 * 1024;

interface Waiter {
  resolve(reply: { error?: string; stats?: LogStats[] }): void;
}

/**
 * The proxy's side of the log side (a log thread, or a cluster's primary): entries are written into a compact
 * binary batch (WireWriter), handed over after at most the link's batchDelayMs (so the hand-over, a message and
 * a wake-up of the other event loop, stays at a few hundred a second or fewer under any load), and encoded and
 * written there. One per process, shared by the pipelines of successive configs so their files stay open across
 * a reload.
 *
 * The link does not keep the process alive on its own: only while an answer is awaited.
 */
export class LogSender {
  private readonly wire = new WireWriter();
  private readonly waiters = new Map<number, Waiter>();
  private readonly pipes = new Map<number, RemotePipeline>();
  private nextId = 1;
  private nextPipe = 1;
  private sent = 0;
  /** Bytes the current batch may grow to before entries are dropped (recomputed at each hand-over). */
  private room = MAX_IN_FLIGHT;
  private timer: NodeJS.Timeout | undefined;
  private refs = 0;
  /** Set when the log side died: entries from then on are counted as failed. */
  private failure: Error | undefined;

  constructor(private readonly link: LogLink = new WorkerThreadLink()) {
    link.start({ message: (msg) => this.received(msg), died: (err) => this.died(err) });
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** @internal A pipeline for one config; `open` is answered when its writers are open. */
  register(pipeline: RemotePipeline, logs: LogConfig[]): { pipe: number; opened: Promise<{ error?: string }> } {
    const pipe = this.nextPipe++;
    this.pipes.set(pipe, pipeline);
    return { pipe, opened: this.request((id) => ({ op: 'open', id, pipe, logs })) };
  }

  /** @internal Closes a pipeline's logs on the log side; its final counts come with the answer. */
  async close(pipe: number): Promise<{ error?: string; stats?: LogStats[] }> {
    const r = await this.request((id) => ({ op: 'close', id, pipe }));
    // Reloads register a pipeline each: a closed one is forgotten, not kept for the life of the process.
    this.pipes.delete(pipe);
    return r;
  }

  /**
   * @internal Appends an entry to the batch; false (nothing sent) when the log side is too far behind or dead.
   * `pastTheBound` is for kflog's own few messages: the warning that entries are being refused here must not be
   * refused itself, or the drops it reports would go unsaid exactly when they happen.
   */
  send(pipe: number, entry: Entry, pastTheBound = false): boolean {
    if (this.failure !== undefined) return false;
    if (this.wire.size > this.room && !pastTheBound) {
      // The log side may have caught up since the last hand-over; with every entry refused there would be no
      // next hand-over to notice it.
      this.room = MAX_IN_FLIGHT - (this.sent - this.link.consumed());
      if (this.wire.size > this.room) return false;
    }
    this.wire.write(pipe, entry);
    if (this.wire.size >= BATCH_BYTES) this.handOver();
    else this.timer ??= setTimeout(handOver, this.link.batchDelayMs, this);
    return true;
  }

  /** @internal Sends the pending batch now. */
  handOver(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.wire.take();
    if (batch !== undefined && this.failure === undefined) {
      // Counted before the post: a transferred buffer is detached, and its length reads 0 after.
      this.sent += batch.length;
      const msg: ToLogSide = { op: 'entries', bytes: batch };
      this.link.post(msg, [batch.buffer as ArrayBuffer]);
    }
    this.room = MAX_IN_FLIGHT - (this.sent - this.link.consumed());
  }

  /** @internal Sends what is pending, then the request; resolves with the log side's answer. */
  request(make: (id: number) => ToLogSide): Promise<{ error?: string; stats?: LogStats[] }> {
    this.handOver();
    if (this.failure !== undefined) return Promise.resolve({ error: this.failure.message });
    const id = this.nextId++;
    const answered = new Promise<{ error?: string; stats?: LogStats[] }>((resolve) => this.waiters.set(id, { resolve }));
    if (this.refs++ === 0) this.link.ref();
    this.link.post(make(id));
    return answered;
  }

  /** @internal The last pipeline closed: the link ends (the log side's writers are closed already). */
  async stop(): Promise<void> {
    this.handOver();
    this.failure ??= new Error(`the ${this.link.name} was stopped`);
    await this.link.stop();
  }

  private received(msg: FromLogSide): void {
    if (msg.op === 'stats') {
      this.pipes.get(msg.pipe)?.counted(msg.stats);
      return;
    }
    if (msg.op === 'buffers') {
      for (const b of msg.buffers) this.wire.recycle(b);
      return;
    }
    const w = this.waiters.get(msg.id);
    if (w === undefined) return;
    this.waiters.delete(msg.id);
    if (--this.refs === 0) this.link.unref();
    w.resolve(msg);
  }

  private died(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wire.take();
    process.stderr.write(`kflog: the ${this.link.name} stopped (${err.message}); entries are counted as failed from now on\n`);
    for (const w of this.waiters.values()) w.resolve({ error: err.message });
    this.waiters.clear();
    if (this.refs > 0) this.link.unref();
    this.refs = 0;
  }
}

function handOver(t: LogSender): void {
  t.handOver();
}

/**
 * One config's pipeline, run on the log side (the log thread, or a cluster's primary). Admission by logger name
 * is decided here too (it decides whether the proxy builds an entry at all); level, sampling, encoding and writing
 * happen there.
 */
export class RemotePipeline implements EntrySink {
  private readonly pipe: number;
  private readonly opened: Promise<{ error?: string }>;
  private readonly kflog: ProcessLogger;
  private readonly admission: Admission<LogConfig>;
  /** The log side's last counts. */
  private remote: LogStats[];
  /** Entries that never reached the log side (it was behind, or dead), per log. */
  private readonly droppedHere = new Map<string, number>();
  private readonly failedHere = new Map<string, number>();
  /**
   * How many entries an entry stands for in a log whose format says (kftray: a request entry with a body 0, its
   * access entry 2, which writes both blocks), so a drop here is counted as the log side would count it.
   */
  private readonly entriesIn = new Map<string, (entry: Entry) => number>();
  /** Entries refused here that some log would have written, each once however many logs would have. */
  private refusedHere = 0;
  private lastReportedDrops = 0;
  private readonly drops = new DropReporter(() => this.reportDrops());
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly configs: LogConfig[],
    private readonly sender: LogSender,
  ) {
    this.kflog = new ProcessLogger(this, 'kflog');
    this.admission = new Admission(configs, (c) => c);
    this.remote = configs.map((c) => ({ name: c.name, written: 0, sampledOut: 0, dropped: 0, failed: 0, skipped: 0, lagMs: 0, maxLagMs: 0, queuedBytes: 0 }));
    for (const c of configs) {
      const encoder = createEncoder(c.encoder, { logCredentials: c.logCredentials, isTTY: false });
      if (encoder.entriesIn !== undefined) this.entriesIn.set(c.name, encoder.entriesIn.bind(encoder));
    }
    const r = sender.register(this, configs);
    this.pipe = r.pipe;
    this.opened = r.opened;
  }

  logger(name: string): ProcessLogger {
    return name === 'kflog' ? this.kflog : new ProcessLogger(this, name);
  }

  wants(logger: string): boolean {
    return this.admission.of(logger).length > 0;
  }

  emit(entry: Entry): void {
    const logs = this.admission.of(entry.logger);
    if (logs.length === 0) return;
    // kflog's own messages are few (its drop warnings come at most once a second) and say what happens to the rest.
    if (!this.closing && this.sender.send(this.pipe, entry, entry.kind === 'process' && entry.logger === 'kflog')) return;
    // Not sent: counted against every log that would have taken it (sampling aside), as its queue would.
    const failed = !this.closing && this.sender.failed;
    const counts = failed ? this.failedHere : this.droppedHere;
    const rank = LEVEL_RANK[entry.level];
    let lost = false;
    for (const l of logs) {
      if (rank < LEVEL_RANK[l.level]) continue;
      const n = this.entriesIn.get(l.name)?.(entry) ?? 1;
      if (n === 0) continue;
      counts.set(l.name, (counts.get(l.name) ?? 0) + n);
      lost = true;
    }
    if (lost && !failed) {
      this.refusedHere++;
      this.drops.dropped();
    }
  }

  async ready(): Promise<void> {
    const r = await this.opened;
    if (r.error !== undefined) throw new Error(r.error);
  }

  async flush(): Promise<void> {
    const r = await this.sender.request((id) => ({ op: 'flush', id, pipe: this.pipe }));
    if (r.stats) this.remote = r.stats;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      // Told before `closing` is set: the warning still goes to the log side.
      this.drops.close();
      this.closing = true;
      await this.opened;
      const r = await this.sender.close(this.pipe);
      if (r.stats) this.remote = r.stats;
    })();
    return this.closed;
  }

  stats(): LogStats[] {
    return this.remote.map((s) => ({
      ...s,
      dropped: s.dropped + (this.droppedHere.get(s.name) ?? 0),
      failed: s.failed + (this.failedHere.get(s.name) ?? 0),
    }));
  }

  async reopen(): Promise<void> {
    const r = await this.sender.request((id) => ({ op: 'reopen', id }));
    if (r.error !== undefined) throw new Error(r.error);
  }

  /** @internal Counts from the log side. */
  counted(stats: LogStats[]): void {
    if (!this.closed) this.remote = stats;
  }


  private reportDrops(): void {
    // Entries, not entries × logs: one access entry refused is one exchange missing from every log that takes it
    // (each log's own count is in its stats and the exit summary).
    const total = this.refusedHere;
    if (total <= this.lastReportedDrops) return;
    this.kflog.warn('log thread behind, entries dropped', { dropped: total - this.lastReportedDrops, dropped_total: total });
    this.lastReportedDrops = total;
  }
}
