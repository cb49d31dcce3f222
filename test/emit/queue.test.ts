import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/core/entry.js';
import { nowMs } from '../../src/core/clock.js';
import { FLUSH_DELAY_MS, LogQueue, type QueueEvents } from '../../src/emit/queue.js';
import type { EntryAccount, EntryBatch, Writer, WriterHealth } from '../../src/writers/writer.js';

/** A writer whose every write waits for the test to answer it. */
class ManualWriter implements Writer {
  readonly key = 'manual';
  readonly description = 'manual writer';
  readonly isTTY = false;
  batches: string[] = [];
  private answers: Array<{ resolve(): void; reject(e: Error): void }> = [];
  async open(): Promise<void> {}
  write(batch: string | Buffer): Promise<void> {
    this.batches.push(batch.toString());
    return new Promise((resolve, reject) => this.answers.push({ resolve, reject }));
  }
  get waiting(): number {
    return this.answers.length;
  }
  succeed(): void {
    this.answers.shift()!.resolve();
  }
  fail(message: string): void {
    this.answers.shift()!.reject(new Error(message));
  }
  async close(): Promise<void> {}
}

/** A writer that takes entries (as net and syslog do) and reports through the account and health it was given. */
class EntryWriter implements Writer {
  readonly key = 'entries';
  readonly description = 'entry writer';
  readonly isTTY = false;
  batches: EntryBatch[] = [];
  health: WriterHealth | undefined;
  overflowNext = 0;
  async open(): Promise<void> {}
  async write(): Promise<void> {
    throw new Error('write() must not be used for a writer that takes entries');
  }
  async writeEntries(batch: EntryBatch): Promise<void> {
    this.batches.push(batch);
    if (this.overflowNext > 0) batch.account.overflow(this.overflowNext);
    this.overflowNext = 0;
  }
  watch(health: WriterHealth): void {
    this.health = health;
  }
  async close(): Promise<void> {}
}

function recorder(): QueueEvents & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    onFailure: (err) => events.push('failure: ' + err.message),
    onRecovery: () => events.push('recovery'),
    onDrop: () => events.push('drop'),
  };
}

/**
 * The queue coalesces writes on a FLUSH_DELAY_MS timer; a timer armed after it with a longer delay fires after it
 * (Node orders timers by due time), and the extra turn lets the write's promise callbacks run.
 */
const nextTurn = (): Promise<void> =>
  new Promise((r) => setTimeout(() => setImmediate(r), FLUSH_DELAY_MS + 1));

describe('LogQueue', () => {
  it('never makes the caller wait: with the writer stuck, it takes entries up to its bound (the batch being written included), then drops and counts', async () => {
    const writer = new ManualWriter();
    const ev = recorder();
    const q = new LogQueue(writer, 1000, ev);
    const line = 'x'.repeat(99) + '\n';
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (q.push(line)) accepted++;
    expect(accepted).toBe(10);
    expect(q.dropped).toBe(40);
    expect(ev.events.filter((e) => e === 'drop')).toHaveLength(40);
    await nextTurn();
    expect(writer.waiting).toBe(1); // one batch of the 10, handed over in one write
    expect(writer.batches[0]).toBe(line.repeat(10));
    // While that write hangs its batch still counts against the bound (it is a copy the queue keeps): all dropped.
    for (let i = 0; i < 5; i++) q.push(line);
    expect(q.dropped).toBe(45);
    writer.succeed();
    await nextTurn();
    // Once written, the queue takes again up to its bound.
    for (let i = 0; i < 20; i++) q.push(line);
    expect(q.dropped).toBe(55);
    await nextTurn();
    writer.succeed();
    await q.idle();
    expect({ written: q.written, dropped: q.dropped, failed: q.failed }).toEqual({ written: 20, dropped: 55, failed: 0 });
  });

  it('counts the whole buffer its writer still holds against the bound, not just the bytes of the batch', async () => {
    const held: Buffer[] = [];
    const writer = new ManualWriter();
    const write = writer.write.bind(writer);
    writer.write = (batch) => {
      held.push(batch as Buffer);
      return write(batch);
    };
    const bound = 100_000;
    const q = new LogQueue(writer, bound, recorder());
    q.push('x'.repeat(99) + '\n');
    await nextTurn();
    expect(writer.waiting).toBe(1);
    // The batch is 100 bytes of a larger buffer, all of it kept alive by the writer until the write settles.
    const capacity = held[0]!.buffer.byteLength;
    expect(capacity).toBeGreaterThan(100);
    let accepted = 0;
    const line = 'y'.repeat(999) + '\n';
    for (let i = 0; i < 100; i++) if (q.push(line)) accepted++;
    expect(accepted).toBeGreaterThan(0);
    expect(capacity + accepted * line.length).toBeLessThanOrEqual(bound);
    writer.succeed();
    await nextTurn();
    writer.succeed();
    await q.idle();
    expect(q.written + q.dropped).toBe(101);
  });

  it('hands over the exact UTF-8 bytes of every line, in order, across batches far larger than its first buffer', async () => {
    const writer = new ManualWriter();
    const raw: Buffer[] = [];
    writer.write = function (batch: string | Buffer): Promise<void> {
      raw.push(Buffer.from(batch));
      return Promise.resolve();
    };
    const q = new LogQueue(writer, 64 * 1024 * 1024, recorder());
    // Multi-byte text (é: 2 bytes, €: 3, 🙂: a surrogate pair, 4) and Buffers, mixed; ~1.6 MiB in all.
    const lines: Array<string | Buffer> = [];
    for (let i = 0; i < 20_000; i++) {
      lines.push(i % 5 === 4 ? Buffer.from(`buffer ${i} ü\n`) : `line ${i} é € 🙂 ${'x'.repeat(i % 97)}\n`);
    }
    for (let i = 0; i < lines.length; i++) {
      expect(q.push(lines[i]!)).toBe(true);
      if (i % 5000 === 4999) await new Promise((r) => setImmediate(r)); // the pending 256 KiB+ go out now
    }
    await q.idle();
    const expected = Buffer.concat(lines.map((l) => (typeof l === 'string' ? Buffer.from(l) : l)));
    expect(Buffer.concat(raw).equals(expected)).toBe(true);
    expect(raw.length).toBeGreaterThan(3); // written as it passed BATCH_BYTES, from fresh buffers each time
    expect(q.written).toBe(lines.length);
  });

  it('reports a failure once per change of state, however many writes fail, and the recovery once', async () => {
    const writer = new ManualWriter();
    const ev = recorder();
    const q = new LogQueue(writer, 1 << 20, ev);
    for (let round = 0; round < 3; round++) {
      q.push('a\n');
      q.push('b\n');
      await nextTurn();
      writer.fail('ENOSPC: no space left on device');
      await q.idle();
    }
    q.push('c\n');
    await nextTurn();
    writer.succeed();
    await q.idle();
    q.push('d\n');
    await nextTurn();
    writer.succeed();
    await q.idle();
    expect(ev.events).toEqual(['failure: ENOSPC: no space left on device', 'recovery']);
    expect({ written: q.written, failed: q.failed }).toEqual({ written: 2, failed: 6 });
  });

  it('writes a line in parts as the UTF-8 bytes of the joined line, parts and strings mixed', async () => {
    const writer = new ManualWriter();
    const raw: Buffer[] = [];
    writer.write = function (batch: string | Buffer): Promise<void> {
      raw.push(Buffer.from(batch));
      return Promise.resolve();
    };
    const q = new LogQueue(writer, 1 << 20, recorder());
    const body = 'é€🙂'.repeat(4000);
    const chunks = [['{"body":"', body, '"}\n'], 'plain\n', ['a ', body, ' b ', body, '\n']] as const;
    for (const c of chunks) expect(q.push(c)).toBe(true);
    await q.idle();
    const expected = chunks.map((c) => (typeof c === 'string' ? c : c.join(''))).join('');
    expect(Buffer.concat(raw).toString('utf8')).toBe(expected);
    expect(q.written).toBe(3);
  });

  it('counts a line in parts against the bound by its bytes, and drops it whole when it does not fit', async () => {
    const writer = new ManualWriter();
    const q = new LogQueue(writer, 64 * 1024, recorder());
    const big = 'x'.repeat(40 * 1024);
    expect(q.push(['[', big, ']\n'])).toBe(true);
    expect(q.push(['[', big, ']\n'])).toBe(false);
    expect(q.dropped).toBe(1);
    await nextTurn();
    writer.succeed();
    await q.idle();
    expect(writer.batches).toEqual([`[${big}]\n`]);
  });

  it('hands a writer that takes entries a line in parts as one entry', async () => {
    const writer = new EntryWriter();
    const q = new LogQueue(writer, 1 << 20, recorder());
    q.push(['a', 'b'.repeat(10_000), 'c\n'], 'info', 1000);
    await q.idle();
    expect(writer.batches[0]!.entries).toEqual([`a${'b'.repeat(10_000)}c\n`]);
  });

  it('writes later batches into the buffers of earlier ones while more keeps coming, when the writer gives them back', async () => {
    const writer = new ManualWriter();
    const seen: ArrayBufferLike[] = [];
    const releasing = Object.assign(writer, { releasesBatch: true });
    const write = writer.write.bind(writer);
    releasing.write = (batch: string | Buffer): Promise<void> => {
      seen.push((batch as Buffer).buffer);
      return write(batch);
    };
    const q = new LogQueue(releasing, 1 << 20, recorder());
    for (let round = 0; round < 4; round++) {
      q.push(`line ${round}\n`);
      if (round === 0) await nextTurn();
      else writer.succeed();
      await nextTurn();
    }
    writer.succeed();
    await q.idle();
    expect(writer.batches).toEqual(['line 0\n', 'line 1\n', 'line 2\n', 'line 3\n']);
    // Two buffers take turns: the one being written and the one filling.
    expect(new Set(seen).size).toBe(2);
  });

  it('never writes into the buffer of a batch whose write failed, nor of one a writer may keep', async () => {
    for (const releasesBatch of [true, false]) {
      const writer = Object.assign(new ManualWriter(), { releasesBatch });
      const seen: ArrayBufferLike[] = [];
      const write = writer.write.bind(writer);
      writer.write = (batch: string | Buffer): Promise<void> => {
        seen.push((batch as Buffer).buffer);
        return write(batch);
      };
      const q = new LogQueue(writer, 1 << 20, recorder());
      q.push('a\n');
      await nextTurn();
      q.push('b\n');
      if (releasesBatch) writer.fail('disk full');
      else writer.succeed();
      await nextTurn();
      q.push('c\n');
      writer.succeed();
      await nextTurn();
      writer.succeed();
      await q.idle();
      expect(new Set(seen).size, `releasesBatch ${releasesBatch}`).toBe(seen.length);
    }
  });

  it('hands a writer that takes entries each entry with its level and time', async () => {
    const writer = new EntryWriter();
    const q = new LogQueue(writer, 1 << 20, recorder());
    const levels: Level[] = ['info', 'error', 'warn'];
    levels.forEach((l, i) => q.push(`line ${i}\n`, l, 1000 + i));
    await q.idle();
    expect(writer.batches).toHaveLength(1);
    const b = writer.batches[0]!;
    expect(b.entries).toEqual(['line 0\n', 'line 1\n', 'line 2\n']);
    expect(b.levels).toEqual(levels);
    expect(b.times).toEqual([1000, 1001, 1002]);
  });

  it('counts entries the writer could not take as dropped, and entries it later could not deliver as failed', async () => {
    const writer = new EntryWriter();
    const ev = recorder();
    const q = new LogQueue(writer, 1 << 20, ev);
    writer.overflowNext = 2;
    for (let i = 0; i < 5; i++) q.push(`${i}\n`);
    await q.idle();
    expect({ written: q.written, dropped: q.dropped, failed: q.failed }).toEqual({ written: 3, dropped: 2, failed: 0 });
    expect(ev.events).toEqual(['drop']); // one overflow report, the count says how many
    const account: EntryAccount = writer.batches[0]!.account;
    account.undelivered(1, new Error('receiver gone'));
    expect({ written: q.written, dropped: q.dropped, failed: q.failed }).toEqual({ written: 2, dropped: 2, failed: 1 });
  });

  it("reports the writer's own fault once, keeps it while writes are merely buffered, and reports its end", async () => {
    const writer = new EntryWriter();
    const ev = recorder();
    const q = new LogQueue(writer, 1 << 20, ev);
    writer.health!.down(new Error('tcp/127.0.0.1:514: connect ECONNREFUSED'));
    writer.health!.down(new Error('tcp/127.0.0.1:514: connect ECONNREFUSED'));
    q.push('buffered\n');
    await q.idle();
    expect(ev.events).toEqual(['failure: tcp/127.0.0.1:514: connect ECONNREFUSED']);
    writer.health!.up();
    expect(ev.events).toEqual(['failure: tcp/127.0.0.1:514: connect ECONNREFUSED', 'recovery']);
  });

  it('tells its log lag, the age of the oldest entry not yet written, and keeps the largest once written', async () => {
    const writer = new ManualWriter();
    const q = new LogQueue(writer, 10_000, recorder());
    expect(q.lagMs()).toBe(0);
    const now = nowMs();
    // Entries 5 s and 1 s old (their ts, as the proxy stamped them): the oldest decides.
    q.push('old\n', 'info', now - 5000);
    q.push('new\n', 'info', now - 1000);
    expect(q.lagMs(now)).toBe(5000);
    await nextTurn();
    expect(writer.waiting).toBe(1);
    // Handed to the writer is not written: while the write hangs, the lag still counts it.
    expect(q.lagMs(now + 2000)).toBe(7000);
    writer.succeed();
    await q.idle();
    expect(q.lagMs()).toBe(0);
    expect(q.maxLagMs).toBeGreaterThanOrEqual(5000);
  });

  it('counts a chunk that stands for two entries as two, written or dropped', async () => {
    const writer = new ManualWriter();
    const q = new LogQueue(writer, 10, recorder());
    q.push('12345678\n', 'info', 0, 2);
    q.push('12345678\n', 'info', 0, 2);
    await nextTurn();
    writer.succeed();
    await q.idle();
    expect({ written: q.written, dropped: q.dropped }).toEqual({ written: 2, dropped: 2 });
  });

  it('counts entries pushed after close as dropped, without writing them', async () => {
    const writer = new EntryWriter();
    const q = new LogQueue(writer, 1 << 20, recorder());
    q.push('in time\n');
    await q.close();
    expect(q.push('too late\n')).toBe(false);
    await q.idle();
    expect({ written: q.written, dropped: q.dropped }).toEqual({ written: 1, dropped: 1 });
    expect(writer.batches.flatMap((b) => b.entries)).toEqual(['in time\n']);
  });
});
