import { createWriter } from './registry.js';
import type { Writer, WriterOptions } from './writer.js';

interface Slot {
  writer: Writer;
  refs: number;
  opening: Promise<void> | undefined;
  /** Writes from every log sharing the writer, one after another, so batches never interleave. */
  tail: Promise<void>;
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
      slot = { writer: candidate, refs: 0, opening: undefined, tail: Promise.resolve() };
      this.slots.set(candidate.key, slot);
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

  async release(slot: Slot): Promise<void> {
    slot.refs--;
    if (slot.refs > 0) return;
    this.slots.delete(slot.writer.key);
    await slot.opening?.catch(() => undefined);
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
  constructor(
    private readonly slot: Slot,
    private readonly pool: WriterPool,
  ) {}
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
    const slot = this.slot;
    const done = slot.tail.then(() => this.pool.ensureOpen(slot)).then(() => slot.writer.write(batch));
    slot.tail = done.catch(() => undefined);
    return done;
  }
  close(): Promise<void> {
    return this.pool.release(this.slot);
  }
}
