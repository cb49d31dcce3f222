import { MessageChannel } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { WireReader } from '../../src/handover/wire.js';
import type { Entry } from '../../src/core/entry.js';
import type { LogLink } from '../../src/handover/log-link.js';
import { LogSender, MAX_IN_FLIGHT, RemotePipeline } from '../../src/handover/remote-pipeline.js';
import { parseConfigText } from '../../src/config/load.js';
import type { ToLogSide } from '../../src/handover/log-protocol.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';

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
  post(msg: ToLogSide, transfer?: ArrayBuffer[]): void {
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
  /** The first entry posted (in order, through the channel) that `match` accepts. */
  async firstEntry(match: (e: Entry) => boolean): Promise<Entry> {
    const reader = new WireReader();
    for (;;) {
      const [msg] = (await once(this.channel.port2, 'message')) as [ToLogSide];
      if (msg.op !== 'entries') continue;
      let found: Entry | undefined;
      reader.read(Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength), (_pipe, e) => {
        if (found === undefined && match(e)) found = e;
      });
      if (found !== undefined) return found;
    }
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

/** Runs `test` with a sender over a HeldLink, on fake timers (the drop warning's second passes at once). */
async function withHeldSender(test: (link: HeldLink, sender: LogSender) => Promise<void>): Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const link = new HeldLink();
  const sender = new LogSender(link);
  try {
    await test(link, sender);
  } finally {
    vi.useRealTimers();
    await sender.stop();
  }
}

/** Lets the drop warning's second pass, hands the batch over, and resolves with the warning the link got. */
function dropWarning(link: HeldLink, sender: LogSender): Promise<Entry> {
  vi.advanceTimersByTime(1000);
  const warning = link.firstEntry((e) => e.kind === 'process' && e.msg === 'log thread behind, entries dropped');
  sender.handOver();
  return warning;
}

/** Sends big entries until the hand-over refuses one: the log side now counts as behind. */
function fill(sender: LogSender): void {
  while (sender.send(0, bigEntry()));
}

describe('the hand-over to the log side', () => {
  it('refuses entries once MAX_IN_FLIGHT (8 MiB) is in flight, and takes them again once the log side has caught up', async () => {
    const link = new HeldLink();
    const sender = new LogSender(link);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      if (sender.send(1, bigEntry())) accepted++;
      else refused++;
    }
    // What was posted and not taken stays within the bound (plus the batch that crossed it).
    expect(link.posted).toBeLessThanOrEqual(MAX_IN_FLIGHT + MIB);
    expect(refused).toBeGreaterThan(500);
    expect(accepted).toBeGreaterThan(100);
    expect(sender.send(1, bigEntry())).toBe(false);
    link.takeAll();
    expect(sender.send(1, bigEntry())).toBe(true);
    await sender.stop();
  });

  it('counts an entry refused here as its log side would: a kftray request entry with a body 0, its access entry 2', async () => {
    const link = new HeldLink();
    const sender = new LogSender(link);
    const pipeline = new RemotePipeline(threeLogs(), sender);
    const dropped = (): Record<string, number> =>
      Object.fromEntries(pipeline.stats().filter((s) => s.name !== 'default').map((s) => [s.name, s.dropped]));
    // A POST with a body: kftray writes its request block from the access entry, with the response block.
    const request = requestInfo({ method: 'POST', headers: { Host: ['127.0.0.1:8080'], 'Content-Length': ['5'] } });

    // Its request entry refused here, its access entry taken: the log side writes both blocks, nothing is lost.
    fill(sender);
    const before = dropped();
    pipeline.emit(requestEntry({ request }));
    link.takeAll();
    pipeline.emit(accessEntry({ request }));
    expect(dropped()).toEqual(before);

    // Its request entry taken, its access entry refused: both blocks are lost.
    link.takeAll();
    pipeline.emit(requestEntry({ request }));
    fill(sender);
    pipeline.emit(accessEntry({ request }));
    expect(dropped()).toEqual({ ...before, kftray: before.kftray! + 2, clf: before.clf! + 1 });

    // A GET without a body: its request entry is a block of its own.
    const mid = dropped();
    pipeline.emit(requestEntry());
    pipeline.emit(accessEntry());
    expect(dropped()).toEqual({ ...mid, kftray: mid.kftray! + 2, clf: mid.clf! + 1 });
    await sender.stop();
  });

  it('warns of entries refused here in entries, not entries times the logs that would have taken them', async () => {
    await withHeldSender(async (link, sender) => {
      const pipeline = new RemotePipeline(threeLogs(), sender);
      fill(sender);
      for (let i = 0; i < 10; i++) pipeline.emit(accessEntry());
      // Below every log's level: no log would have written them, so nothing is lost.
      for (let i = 0; i < 3; i++) pipeline.emit(accessEntry({ level: 'debug' }));
      // Each of the three logs counts all ten; the warning says ten entries.
      expect(pipeline.stats().map((s) => s.dropped)).toEqual([10, 10, 10]);
      link.takeAll();
      expect(await dropWarning(link, sender)).toMatchObject({ level: 'warn', fields: { dropped: 10, dropped_total: 10 } });
    });
  });

  it('hands over its warning of entries refused here while the log side is still behind', async () => {
    await withHeldSender(async (link, sender) => {
      const pipeline = new RemotePipeline(threeLogs(), sender);
      fill(sender);
      for (let i = 0; i < 4; i++) pipeline.emit(accessEntry());
      // Nothing taken: the log side is as far behind as when it refused them.
      expect(await dropWarning(link, sender)).toMatchObject({ level: 'warn', fields: { dropped: 4, dropped_total: 4 } });
      // Other entries are still refused: only kflog's own messages pass the bound.
      expect(sender.send(0, accessEntry())).toBe(false);
    });
  });
});

/** default, kftray (all of http.log) and clf (access entries), all discarded. */
function threeLogs(): ReturnType<typeof parseConfigText>['logs'] {
  const discard = { output: 'discard' };
  return parseConfigText(
    JSON.stringify({
      forwards: [{ id: 'users', listen: '127.0.0.1:0', target: { url: 'http://127.0.0.1:1' } }],
      logging: {
        logs: {
          default: { writer: discard },
          kftray: { include: ['http.log'], writer: discard, encoder: { format: 'kftray' } },
          clf: { include: ['http.log.access'], writer: discard, encoder: { format: 'clf' } },
        },
      },
    }),
    'test config',
  ).logs;
}
