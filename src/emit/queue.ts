import type { Writer } from '../writers/writer.js';

export interface QueueEvents {
  /** A write failed after a success (or at first); reported once per change of state, not per batch. */
  onFailure(err: Error): void;
  /** Writing works again after a failure. */
  onRecovery(): void;
  /** Entries were dropped because the queue was full. */
  onDrop(): void;
}

/**
 * A bounded queue of encoded entries in front of one writer. The proxy only ever appends (O(1), never waits);
 * the queue hands the writer everything pending as one batch, and the next batch once that write settled.
 * When the bound is reached entries are dropped and counted, never silently.
 */
export class LogQueue {
  private pending: Array<string | Buffer> = [];
  private pendingSize = 0;
  private writing = false;
  private scheduled = false;
  private failing = false;
  private idleWaiters: Array<() => void> = [];

  written = 0;
  dropped = 0;
  failed = 0;

  constructor(
    readonly writer: Writer,
    private readonly maxBytes: number,
    private readonly events: QueueEvents,
  ) {}

  push(chunk: string | Buffer): boolean {
    if (this.pendingSize + chunk.length > this.maxBytes) {
      this.dropped++;
      this.events.onDrop();
      return false;
    }
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      // Batch everything appended during this turn of the event loop into one write.
      setImmediate(drain, this);
    }
    return true;
  }

  /** Resolves when everything pushed so far has been handed to the writer (or counted as failed). */
  idle(): Promise<void> {
    if (!this.writing && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** @internal */
  drainNow(): void {
    this.scheduled = false;
    if (this.writing) return;
    if (this.pending.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const batch = this.pending;
    const count = batch.length;
    this.pending = [];
    this.pendingSize = 0;
    this.writing = true;
    const data = joinBatch(batch);
    this.writer.write(data).then(
      () => {
        this.written += count;
        if (this.failing) {
          this.failing = false;
          this.events.onRecovery();
        }
        this.afterWrite();
      },
      (err: Error) => {
        this.failed += count;
        if (!this.failing) {
          this.failing = true;
          this.events.onFailure(err);
        }
        this.afterWrite();
      },
    );
  }

  private afterWrite(): void {
    this.writing = false;
    this.drainNow();
  }
}

function drain(q: LogQueue): void {
  q.drainNow();
}

function joinBatch(batch: Array<string | Buffer>): string | Buffer {
  if (batch.length === 1) return batch[0]!;
  let allStrings = true;
  for (const c of batch) if (typeof c !== 'string') allStrings = false;
  if (allStrings) return (batch as string[]).join('');
  return Buffer.concat(batch.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
