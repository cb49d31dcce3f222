import { DEFAULT_OUTPUT_DEADLINE_MS, OutputStuckError, withDeadline } from './deadline.js';
import { createWriter } from './registry.js';
import type { EntryBatch, Writer, WriterHealth, WriterOptions } from './writer.js';

interface Slot {
  writer: Writer;
  refs: number;
  opening: Promise<void> | undefined;
  /** Writes from every log sharing the writer, one after another, so batches never interleave. */
  tail: Promise<void>;
  /** Each sharing log's health listener: the writer reports once, every log hears it. */
  watchers: Set<WriterHealth>;
  /** The writer's current fault, so a log that starts sharing it late still hears about it. */
  fault: Error | undefined;
  /** The last open() failed (reported as a fault until an open succeeds). */
  openFailed: boolean;
  /** How long one open, write or close of this writer may take (`logging.output_deadline`). */
  deadlineMs: number;
  /**
   * An open or write that outlived its deadline and has not settled yet: until it does, further opens and writes
   * fail at once (counted as failed) instead of each waiting out the deadline again or piling up behind it.
   */
  hung: OutputStuckError | undefined;
}

function faulty(slot: Slot, err: Error): void {
  slot.fault = err;
  for (const w of slot.watchers) w.down(err);
}

function healthy(slot: Slot): void {
  slot.fault = undefined;
  for (const w of slot.watchers) w.up();
}

/**
 * Writers shared by identity, as Caddy does: the same file used by two logs is one open writer, reference
 * counted, so lines from both logs interleave whole and the file is opened (and rotated) once.
 */
export class WriterPool {
  private slots = new Map<string, Slot>();

  acquire(options: WriterOptions, deadlineMs = DEFAULT_OUTPUT_DEADLINE_MS): Writer {
    const candidate = createWriter(options);
    let slot = this.slots.get(candidate.key);
    if (!slot) {
      const created: Slot = {
        writer: candidate,
        refs: 0,
        opening: undefined,
        tail: Promise.resolve(),
        watchers: new Set(),
        fault: undefined,
        openFailed: false,
        deadlineMs,
        hung: undefined,
      };
      slot = created;
      this.slots.set(candidate.key, created);
      candidate.watch?.({ down: (err) => faulty(created, err), up: () => healthy(created) });
      slot.opening = this.open(slot);
    }
    slot.refs++;
    return new SharedWriter(slot, this);
  }

  /**
   * (Re)opens a slot's writer. A failed open is reported at once (not at the first line) and retried by the next
   * write, so a fixed fault heals itself; the open that works again reports the recovery.
   */
  open(slot: Slot): Promise<void> {
    const p = this.bounded(slot, () => slot.writer.open(), 'opening');
    p.then(
      () => {
        if (slot.openFailed) {
          slot.openFailed = false;
          healthy(slot);
        }
      },
      (err: Error) => {
        if (slot.opening === p) slot.opening = undefined;
        if (!slot.openFailed) {
          slot.openFailed = true;
          faulty(slot, err);
        }
      },
    );
    return p;
  }

  /**
   * `op` of a slot's writer within its deadline. One that outlives it rejects with OutputStuckError and marks the
   * slot hung until it settles: meanwhile every open and write fails at once.
   */
  bounded(slot: Slot, op: () => Promise<void>, what: string): Promise<void> {
    if (slot.hung) return Promise.reject(slot.hung);
    const work = op();
    return withDeadline(work, slot.deadlineMs, `${what} ${slot.writer.description}`).catch((err: unknown) => {
      if (err instanceof OutputStuckError) {
        slot.hung = err;
        void work.catch(() => undefined).finally(() => {
          if (slot.hung === err) slot.hung = undefined;
        });
      }
      throw err;
    });
  }

  async release(slot: Slot, health: WriterHealth | undefined): Promise<void> {
    if (health) slot.watchers.delete(health);
    slot.refs--;
    if (slot.refs > 0) return;
    if (this.slots.get(slot.writer.key) === slot) this.slots.delete(slot.writer.key);
    // Opening and each write are bounded already; closing is too, so a stuck output never holds up a shutdown.
    await slot.opening?.catch(() => undefined);
    await slot.tail;
    if (slot.hung) return; // its stuck operation holds the writer: closing would only wait behind it
    await withDeadline(slot.writer.close(), slot.deadlineMs, `closing ${slot.writer.description}`).catch(() => undefined);
  }

  async reopenAll(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => s.writer.reopen?.()));
  }

  /** @internal */
  ensureOpen(slot: Slot): Promise<void> {
    if (!slot.opening) slot.opening = this.open(slot);
    return slot.opening;
  }
}

class SharedWriter implements Writer {
  private health: WriterHealth | undefined;
  private released = false;
  readonly writeEntries?: (batch: EntryBatch) => Promise<void>;

  constructor(
    private readonly slot: Slot,
    private readonly pool: WriterPool,
  ) {
    // Offered only when the writer takes entries, so the queue keeps joining batches for every other writer.
    if (slot.writer.writeEntries) this.writeEntries = (batch) => this.serialized(() => slot.writer.writeEntries!(batch));
  }
  get key(): string {
    return this.slot.writer.key;
  }
  get description(): string {
    return this.slot.writer.description;
  }
  get isTTY(): boolean {
    return this.slot.writer.isTTY;
  }
  get strictStart(): boolean {
    return this.slot.writer.strictStart === true;
  }
  get releasesBatch(): boolean {
    return this.slot.writer.releasesBatch === true;
  }
  open(): Promise<void> {
    return this.pool.ensureOpen(this.slot);
  }
  write(batch: string | Buffer): Promise<void> {
    return this.serialized(() => this.slot.writer.write(batch));
  }
  watch(health: WriterHealth): void {
    this.health = health;
    this.slot.watchers.add(health);
    if (this.slot.fault) health.down(this.slot.fault);
  }
  close(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.pool.release(this.slot, this.health);
  }

  private serialized(write: () => Promise<void>): Promise<void> {
    const slot = this.slot;
    if (this.released) return Promise.reject(new Error(`${slot.writer.description} is closed`));
    const done = slot.tail.then(() => this.pool.ensureOpen(slot)).then(() => this.pool.bounded(slot, write, 'writing to'));
    slot.tail = done.catch(() => undefined);
    return done;
  }
}
