import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { LogLink } from '../../src/handover/log-link.js';
import { LogSender } from '../../src/handover/remote-pipeline.js';
import type { ToLogThread } from '../../src/handover/thread-protocol.js';
import { accessEntry } from '../helpers/entries.js';

const MIB = 1024 * 1024;

/**
 * A log side that takes nothing until told to: batches go through a real MessageChannel, so a transferred
 * buffer is detached on the sender's side as with the log thread.
 */
class HeldLink implements LogLink {
  readonly name = 'held link';
  readonly batchDelayMs = 5;
  private readonly channel = new MessageChannel();
  /** Bytes of entry batches posted. */
  posted = 0;
  private taken = 0;
  start(): void {}
  post(msg: ToLogThread, transfer?: ArrayBuffer[]): void {
    const bytes = msg.op === 'entries' ? msg.bytes.byteLength : 0;
    this.channel.port1.postMessage(msg, transfer ?? []);
    this.posted += bytes;
  }
  consumed(): number {
    return this.taken;
  }
  takeAll(): void {
    this.taken = this.posted;
  }
  ref(): void {}
  unref(): void {}
  async stop(): Promise<void> {
    this.channel.port1.close();
  }
}

function bigEntry(): ReturnType<typeof accessEntry> {
  const e = accessEntry();
  const text = 'x'.repeat(60 * 1024);
  e.request.body = { bytes: text.length, text, truncated: false };
  return e;
}

describe('the hand-over to the log side', () => {
  it('refuses entries once 16 MB are in flight, and takes them again once the log side has caught up', async () => {
    const link = new HeldLink();
    const sender = new LogSender(link);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      if (sender.send(1, bigEntry())) accepted++;
      else refused++;
    }
    // What was posted and not taken stays within the bound (plus the batch that crossed it).
    expect(link.posted).toBeLessThanOrEqual(16 * MIB + MIB);
    expect(refused).toBeGreaterThan(500);
    expect(accepted).toBeGreaterThan(200);
    expect(sender.send(1, bigEntry())).toBe(false);
    link.takeAll();
    expect(sender.send(1, bigEntry())).toBe(true);
    await sender.stop();
  });
});
