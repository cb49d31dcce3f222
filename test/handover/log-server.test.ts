import { describe, expect, it } from 'vitest';
import '../../src/modules.js';
import type { LogConfig } from '../../src/config/types.js';
import { WireWriter } from '../../src/handover/wire.js';
import { LogServer } from '../../src/handover/log-server.js';
import type { FromLogSide } from '../../src/handover/log-protocol.js';
import { WriterPool } from '../../src/writers/pool.js';
import { accessEntry } from '../helpers/entries.js';

const LOG: LogConfig = {
  name: 'json', writer: { output: 'discard' }, encoder: { format: 'json' }, level: 'info', include: [], exclude: [],
  logCredentials: false, queueBytes: 64 << 20, outputDeadlineMs: 5000,
};

/** One batch of `n` access entries with 60 KB captured bodies: costly to encode, as under overload. */
function heavyBatch(n: number): Uint8Array {
  const writer = new WireWriter();
  const text = 'x'.repeat(60 * 1024);
  for (let i = 0; i < n; i++) {
    const e = accessEntry();
    e.request.body = { bytes: text.length, text, truncated: false };
    e.resp_body = { bytes: text.length, text, truncated: false };
    writer.write(1, e);
  }
  return writer.take()!;
}

describe('the log side', () => {
  it('works through a burst of batches in slices, letting the event loop turn (writes complete) between them', async () => {
    let flushed: (reply: FromLogSide) => void = () => undefined;
    const flushReply = new Promise<FromLogSide>((resolve) => (flushed = resolve));
    let consumed = 0;
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const post = (m: FromLogSide): void => {
      if (m.op === 'reply' && m.id === 1) opened();
      if (m.op === 'reply' && m.id === 2) flushed(m);
    };
    // Slices of one message each, so what a slice gets through does not depend on this machine's speed.
    const server = new LogServer(post, new WriterPool(), (bytes) => (consumed += bytes), { sliceMs: 0 });
    server.handle({ op: 'open', id: 1, pipe: 1, logs: [LOG] });
    await open;
    // What a message port does with megabytes queued: every message handed over in one go.
    const batches = Array.from({ length: 20 }, () => heavyBatch(2));
    const total = batches.reduce((sum, b) => sum + b.length, 0);
    for (const bytes of batches) server.handle({ op: 'entries', bytes });
    expect(consumed).toBe(0);
    // The first slice runs in the next check phase, before this callback (queued after it); the rest waits for
    // later turns of the event loop, where a write's completion would run.
    const afterFirstSlice = await new Promise<number>((resolve) => setImmediate(() => resolve(consumed)));
    expect(afterFirstSlice).toBe(batches[0]!.length);
    // In order, to the end: the flush is answered after every entry before it was handed to the log.
    server.handle({ op: 'flush', id: 2, pipe: 1 });
    const reply = await flushReply;
    expect(consumed).toBe(total);
    expect(reply.op === 'reply' && reply.stats?.[0]?.written).toBe(40);
    await server.closeAll();
  });

  it('gives the buffers of the batches it read back, whole, when asked to (a thread, to which they were transferred)', async () => {
    const given: ArrayBuffer[] = [];
    const replies = new Map<number, () => void>();
    const replied = (id: number): Promise<void> => new Promise((resolve) => replies.set(id, resolve));
    const post = (m: FromLogSide, transfer?: ArrayBuffer[]): void => {
      if (m.op === 'reply') replies.get(m.id)?.();
      if (m.op === 'buffers') {
        expect(transfer).toEqual(m.buffers);
        given.push(...m.buffers);
      }
    };
    const server = new LogServer(post, new WriterPool(), () => undefined, { returnBatches: true });
    const open = replied(1);
    server.handle({ op: 'open', id: 1, pipe: 1, logs: [LOG] });
    await open;
    const batches = [heavyBatch(1), heavyBatch(1)];
    const sent = batches.map((b) => b.buffer);
    for (const bytes of batches) server.handle({ op: 'entries', bytes });
    // Answered after the batches before it were read, and after the slice that read them gave their buffers back.
    const flushed = replied(2);
    server.handle({ op: 'flush', id: 2, pipe: 1 });
    await flushed;
    expect(given).toEqual(sent);
    await server.closeAll();
  });

  it('keeps the buffers of the batches it read when not asked to give them back (a process: they were copies)', async () => {
    const posted: string[] = [];
    const server = new LogServer((m) => void posted.push(m.op), new WriterPool(), () => undefined);
    server.handle({ op: 'entries', bytes: heavyBatch(1) });
    await new Promise((r) => setImmediate(r));
    expect(posted).not.toContain('buffers');
    await server.closeAll();
  });
});

