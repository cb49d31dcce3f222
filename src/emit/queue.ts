import type { Level } from '../core/entry.js';
import { partsLength, type LineParts } from '../encoders/pieces.js';
import { nowMs } from '../core/clock.js';
import { OutputStuckError } from '../writers/deadline.js';
import type { EntryAccount, EntryBatch, Writer, WriterHealth } from '../writers/writer.js';

export interface QueueEvents {
  /** Writing stopped working (a write failed, or the writer reported a fault); once per change of state. */
  onFailure(err: Error): void;
  /** Writing works again after a failure. */
  onRecovery(): void;
  /** Entries were dropped because the queue (or the writer's own buffer) was full. */
  onDrop(): void;
}

/** Longest time an entry waits before its batch is written (the delay a reader of the log can notice). */
export const FLUSH_DELAY_MS = 10;
/** Pending bytes that trigger a write at once. */
const BATCH_BYTES = 256 * 1024;

/** First capacity of a batch buffer; later ones are sized from the batch before. */
const MIN_BATCH_BUFFER = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * A bounded queue of encoded entries in front of one writer. The proxy only ever appends (O(1), never waits);
 * the queue hands the writer everything pending as one batch, and the next batch once that write settled.
 * When the bound is reached entries are dropped and counted, never silently.
 *
 * Every entry pushed ends up in exactly one count: written, dropped or failed (once the queue is idle).
 */
export class LogQueue implements EntryAccount, WriterHealth {
  /**
   * Pending entries of a byte writer, already as UTF-8: each line is written into the batch buffer as it is
   * pushed, so the encoder's string (a rope of many pieces) dies young instead of surviving a scavenge or two
   * while it waits for the flush. Profiled at ~7 µs an entry for a json line (GC and a late flatten).
   */
  private buf: Buffer = EMPTY;
  /** Capacity of the next batch buffer: the last batch's size and a quarter, so most batches never grow. */
  private nextCapacity = MIN_BATCH_BUFFER;
  /** The buffer of the batch being written, when the writer gives it back (Writer.releasesBatch). */
  private writingBuf: Buffer | undefined;
  /** A written batch's buffer, for the next batch while more is coming. */
  private spare: Buffer | undefined;
  /** Pending entries of a writer that takes entries (syslog, net: one message each). */
  private pending: Array<string | Buffer> = [];
  /** Level and time of each pending entry, kept only for writers that take entries (syslog needs the level). */
  private levels: Level[] = [];
  private times: number[] = [];
  private pendingCount = 0;
  /** Pending bytes (UTF-16 units for entry-wise writers, whose entries stay strings). */
  private pendingSize = 0;
  private writing = false;
  private scheduled = false;
  private closed = false;
  /** The last write was rejected. */
  private writeFailing = false;
  /** The writer said it is down (and has not said it is up again). */
  private writerDown = false;
  /** Entries of the batch in flight that the writer reported as dropped. */
  private batchDropped = 0;
  private readonly entryWise: boolean;
  private idleWaiters: Array<() => void> = [];

  written = 0;
  dropped = 0;
  failed = 0;
  /** The largest log lag seen: how old (by its ts) the oldest entry of a batch was when its write settled. */
  maxLagMs = 0;
  /** ts of the oldest entry pending, and of the oldest in the batch being written (0: none). */
  private pendingOldestTs = 0;
  private writingOldestTs = 0;
  /** Bytes of the batch being written: they count against the bound until the write settles. */
  private writingSize = 0;

  constructor(
    readonly writer: Writer,
    private readonly maxBytes: number,
    private readonly events: QueueEvents,
  ) {
    this.entryWise = typeof writer.writeEntries === 'function';
    writer.watch?.(this);
  }

  /** `entries`: how many entries the chunk stands for (see Encoder.entriesIn); counted as one or the other. */
  push(chunk: string | Buffer | LineParts, level: Level = 'info', ts = 0, entries = 1): boolean {
    // The bound holds every copy this queue keeps: what is pending and the batch the writer still holds.
    if (this.closed || !(this.entryWise ? this.take(chunk, level, ts) : this.append(chunk))) {
      this.dropped += entries;
      if (!this.closed) this.events.onDrop();
      return false;
    }
    if (this.pendingCount === 0) this.pendingOldestTs = ts;
    this.pendingCount += entries;
    if (!this.writing && !this.scheduled) this.schedule();
    return true;
  }

  /** Bytes the bound still allows: pending and in-flight copies counted, as push() counts them. */
  room(): number {
    return this.closed ? 0 : this.maxBytes - this.pendingSize - this.writingSize;
  }

  /** Counts `entries` as dropped without taking them (the log found the queue full before encoding). */
  refuse(entries: number): void {
    this.dropped += entries;
    if (!this.closed && entries > 0) this.events.onDrop();
  }

  /** Bytes held against the bound now: what is pending and the batch the writer still holds (as room() counts them). */
  get heldBytes(): number {
    return this.pendingSize + this.writingSize;
  }

  /** Log lag now: the age of the oldest entry not yet written (0 when all is written). */
  lagMs(now = nowMs()): number {
    const oldest = this.writing && this.writingOldestTs > 0 ? this.writingOldestTs : this.pendingCount > 0 ? this.pendingOldestTs : 0;
    return oldest > 0 ? Math.max(0, Math.round(now - oldest)) : 0;
  }

  /** Keeps the chunk as an entry of its own (a line in parts joined: a writer frames whole entries); false when it does not fit the bound. */
  private take(parts: string | Buffer | LineParts, level: Level, ts: number): boolean {
    const chunk = typeof parts === 'string' || Buffer.isBuffer(parts) ? parts : parts.join('');
    if (this.pendingSize + this.writingSize + chunk.length > this.maxBytes) return false;
    this.pending.push(chunk);
    this.levels.push(level);
    this.times.push(ts);
    this.pendingSize += chunk.length;
    return true;
  }

  /**
   * Writes the chunk into the pending buffer; false when it does not fit the bound. The bound counts buffers by
   * their capacity (what the process really holds), the one being written included. A chunk in parts (a line
   * with its big bodies apart, pieces.ts) is written part after part: no flat copy of the whole line is made.
   */
  private append(chunk: string | Buffer | LineParts): boolean {
    const limit = this.maxBytes - this.writingSize;
    // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4): room for the worst case first.
    let needed = this.pendingSize + (typeof chunk === 'string' ? chunk.length * 3 : Buffer.isBuffer(chunk) ? chunk.length : partsLength(chunk) * 3);
    if (needed > this.buf.length) {
      // Near the bound the worst case is too coarse: the exact size decides.
      if (needed > limit && !Buffer.isBuffer(chunk)) needed = this.pendingSize + (typeof chunk === 'string' ? Buffer.byteLength(chunk) : exactSize(chunk));
      if (needed > limit) return false;
      if (needed > this.buf.length) {
        // Doubling, but never past the bound: the buffer is a copy to count too.
        const grown = Buffer.allocUnsafeSlow(Math.min(limit, Math.max(needed, this.buf.length * 2, this.nextCapacity)));
        this.buf.copy(grown, 0, 0, this.pendingSize);
        this.buf = grown;
      }
    }
    if (typeof chunk === 'string') this.pendingSize += this.buf.write(chunk, this.pendingSize);
    else if (Buffer.isBuffer(chunk)) this.pendingSize += chunk.copy(this.buf, this.pendingSize);
    else for (let i = 0; i < chunk.length; i++) this.pendingSize += this.buf.write(chunk[i]!, this.pendingSize);
    return true;
  }

  /**
   * Coalesce: a write costs a syscall (and a thread-pool round trip for files) whatever its size, so under load
   * entries are gathered for up to FLUSH_DELAY_MS, or until BATCH_BYTES are pending, and written at once.
   */
  private schedule(): void {
    this.scheduled = true;
    if (this.pendingSize >= BATCH_BYTES) setImmediate(drain, this);
    else setTimeout(drain, FLUSH_DELAY_MS, this);
  }

  /** Resolves when everything pushed so far has been handed to the writer (or counted as failed). */
  idle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.pendingCount === 0) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // Someone is waiting (flush, shutdown): no reason to let the coalescing delay run out.
    if (!this.writing) this.drainNow();
    return p;
  }

  /** Writes what is pending, then refuses (and counts as dropped) anything pushed later, and closes the writer. */
  async close(): Promise<void> {
    await this.idle();
    this.closed = true;
    await this.writer.close();
  }

  /** @internal */
  drainNow(): void {
    this.scheduled = false;
    if (this.writing) return;
    if (this.pendingCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const count = this.pendingCount;
    const size = this.pendingSize;
    this.pendingCount = 0;
    this.pendingSize = 0;
    this.writingOldestTs = this.pendingOldestTs;
    this.pendingOldestTs = 0;
    this.writingSize = size;
    this.writing = true;
    this.batchDropped = 0;
    let done: Promise<void>;
    if (this.entryWise) {
      const entries: EntryBatch = { entries: this.pending, levels: this.levels, times: this.times, account: this };
      this.pending = [];
      this.levels = [];
      this.times = [];
      done = this.writer.writeEntries!(entries);
    } else {
      // The writer owns this buffer until the write settles, or for good when it may hold it longer (net); its
      // whole capacity stays in memory meanwhile, so that is what counts against the bound.
      const full = this.buf;
      const batch = full.subarray(0, size);
      this.writingSize = full.length;
      this.writingBuf = this.writer.releasesBatch === true ? full : undefined;
      // The buffer of the batch before, when its write gave it back and it fits the bound beside this one.
      const spare = this.spare;
      this.spare = undefined;
      this.buf = spare !== undefined && spare.length + full.length <= this.maxBytes ? spare : EMPTY;
      this.nextCapacity = Math.max(MIN_BATCH_BUFFER, Math.min(size + (size >> 2), BATCH_BYTES * 2));
      done = this.writer.write(batch);
    }
    done.then(
      () => {
        // Kept only while more is coming: an idle log holds no batch buffer. A failed write's buffer is never
        // reused (a write given up on at its deadline may still be in progress).
        if (this.pendingCount > 0) this.spare = this.writingBuf;
        this.writingBuf = undefined;
        this.noteLag();
        this.written += count - this.batchDropped;
        if (this.writeFailing) this.setState(false, this.writerDown, undefined);
        this.afterWrite();
      },
      (err: Error) => {
        this.writingBuf = undefined;
        this.noteLag();
        const lost = count - this.batchDropped;
        this.failed += lost;
        this.setState(true, this.writerDown, err);
        // Given up on at its deadline, the write may still land: then `written` must say so, as the file does.
        if (err instanceof OutputStuckError) {
          void err.eventually.then((landed) => {
            if (!landed) return;
            this.failed -= lost;
            this.written += lost;
          });
        }
        this.afterWrite();
      },
    );
  }

  private noteLag(): void {
    if (this.writingOldestTs > 0) this.maxLagMs = Math.max(this.maxLagMs, Math.round(nowMs() - this.writingOldestTs));
    this.writingOldestTs = 0;
  }

  // EntryAccount: what the writer tells about entries it took.
  overflow(n: number): void {
    this.dropped += n;
    this.batchDropped += n;
    this.events.onDrop();
  }

  undelivered(n: number, _err: Error): void {
    this.written -= n;
    this.failed += n;
  }

  // WriterHealth: faults the writer reports on its own.
  down(err: Error): void {
    this.setState(this.writeFailing, true, err);
  }

  up(): void {
    this.setState(this.writeFailing, false, undefined);
  }

  private setState(writeFailing: boolean, writerDown: boolean, err: Error | undefined): void {
    const before = this.writeFailing || this.writerDown;
    this.writeFailing = writeFailing;
    this.writerDown = writerDown;
    const after = writeFailing || writerDown;
    if (!before && after) this.events.onFailure(err ?? new Error('writer failed'));
    else if (before && !after) this.events.onRecovery();
  }

  private afterWrite(): void {
    this.writing = false;
    this.writingSize = 0;
    if (this.pendingCount === 0 || this.idleWaiters.length > 0) this.drainNow();
    else if (!this.scheduled) this.schedule();
  }
}

function drain(q: LogQueue): void {
  q.drainNow();
}

function exactSize(parts: LineParts): number {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += Buffer.byteLength(parts[i]!);
  return n;
}
