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
}

/**
 * Writers shared by identity, as Caddy does: the same file used by two logs is one open writer, reference
 * counted, so lines from both logs interleave whole and the file is opened (and rotated) once.
 */
export class WriterPool {
  private slots = new Map<string, Slot>();

  acquire(options: WriterOptions): Writer {
    const candidate = createWriter(options);
    let slot = this.slots.get(candidate.key);
    if (!slot) {
      const created: Slot = { writer: candidate, refs: 0, opening: undefined, tail: Promise.resolve(), watchers: new Set(), fault: undefined };
      slot = created;
      this.slots.set(candidate.key, created);
      candidate.watch?.({
        down(err) {
          created.fault = err;
          for (const w of created.watchers) w.down(err);
        },
        up() {
          created.fault = undefined;
          for (const w of created.watchers) w.up();
        },
      });
      slot.opening = this.open(slot);
    }
    slot.refs++;
    return new SharedWriter(slot, this);
  }

  /** (Re)opens a slot's writer; a failed open is retried by the next write, so a fixed fault heals itself. */
  open(slot: Slot): Promise<void> {
    const p = slot.writer.open();
    p.catch(() => {
      if (slot.opening === p) slot.opening = undefined;
    });
    return p;
  }

  /** Resolves when every writer opened; rejects with the first that could not (a net writer without soft_start). */
  async ready(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => this.ensureOpen(s)));
  }

  async release(slot: Slot, health: WriterHealth | undefined): Promise<void> {
    if (health) slot.watchers.delete(health);
    slot.refs--;
    if (slot.refs > 0) return;
    if (this.slots.get(slot.writer.key) === slot) this.slots.delete(slot.writer.key);
    await slot.opening?.catch(() => undefined);
    await slot.tail;
    await slot.writer.close();
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
    const done = slot.tail.then(() => this.pool.ensureOpen(slot)).then(write);
    slot.tail = done.catch(() => undefined);
    return done;
  }
}
