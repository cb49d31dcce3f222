import type { WriterPool } from '../writers/pool.js';
import { WireReader } from './wire.js';
import type { Entry } from '../core/entry.js';
import type { LogStats } from '../emit/log.js';
import { Pipeline } from '../emit/pipeline.js';
import type { FromLogSide, ToLogSide } from './log-protocol.js';

/** How long the log side works through queued messages before letting writes complete (and timers run). */
const SLICE_MS = 5;

/** Counts go back this often when they changed (writes settle, writers drop or recover, with or without new entries). */
const STATS_INTERVAL_MS = 100;

export interface LogServerOptions {
  /** How long one slice of work through the inbox may take (a test sets 0: one message a slice). Default SLICE_MS. */
  sliceMs?: number;
  /** Send the buffers of the batches read back (a thread, to which they were transferred). Default false. */
  returnBatches?: boolean;
}

/**
 * The log side of one proxy event loop: reads the entry batches it sends and runs them through the ordinary
 * Pipeline (encoders, queues, writers). Runs on the log thread, or in a cluster's primary once per listener
 * process. Writers come from the pool it is given, so files are shared with every other server and pipeline
 * using it, and lines from all of them reach a file whole, one batch after another.
 */
export class LogServer {
  private readonly pipelines = new Map<number, Pipeline>();
  private readonly reader = new WireReader();
  /** The counts last sent, per pipeline, as one string to compare. */
  private readonly published = new Map<number, string>();
  /** Final counts of the pipelines closed so far. */
  readonly closedStats: LogStats[] = [];
  private readonly statsTimer: NodeJS.Timeout;
  private readonly deliver = (pipe: number, entry: Entry): void => {
    // A pipeline is closed only after the proxy's side stopped sending to it; nothing arrives for a closed one.
    this.pipelines.get(pipe)?.emit(entry);
  };

  /** Buffers of batches read in this slice, to go back to the proxy's thread (options.returnBatches). */
  private spent: ArrayBuffer[] = [];

  constructor(
    private readonly post: (msg: FromLogSide, transfer?: ArrayBuffer[]) => void,
    private readonly pool: WriterPool,
    /** Told the size of each batch once it is read and handed to the logs. */
    private readonly consumed: (bytes: number) => void,
    private readonly options: LogServerOptions = {},
  ) {
    this.statsTimer = setInterval(() => this.publishStats(), STATS_INTERVAL_MS);
    this.statsTimer.unref();
  }

  /**
   * Messages not handled yet, in order. A message port hands over everything queued in one go: 8 MB of entry
   * batches read and encoded back to back would leave no turn for the writes' completions, so a log's queue
   * filled (and dropped) while its writer sat idle. Handled in slices instead, the writes going on between them.
   */
  private readonly inbox: ToLogSide[] = [];
  private inboxHead = 0;
  private pumpScheduled = false;

  handle(msg: ToLogSide): void {
    this.inbox.push(msg);
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(pump, this);
    }
  }

  /** @internal Handles messages in order for one slice of time, then lets the event loop turn. */
  pump(): void {
    this.pumpScheduled = false;
    const sliceEnd = performance.now() + (this.options.sliceMs ?? SLICE_MS);
    while (this.inboxHead < this.inbox.length) {
      const msg = this.inbox[this.inboxHead]!;
      this.inbox[this.inboxHead++] = undefined as unknown as ToLogSide;
      this.process(msg);
      if (performance.now() >= sliceEnd) break;
    }
    if (this.spent.length > 0) {
      const buffers = this.spent;
      this.spent = [];
      this.post({ op: 'buffers', buffers }, buffers);
    }
    if (this.inboxHead < this.inbox.length) {
      this.pumpScheduled = true;
      setImmediate(pump, this);
    } else {
      this.inbox.length = 0;
      this.inboxHead = 0;
    }
  }

  private process(msg: ToLogSide): void {
    switch (msg.op) {
      case 'entries': {
        const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
        this.reader.read(bytes, this.deliver);
        this.consumed(bytes.length);
        // The reader keeps nothing of a batch (every string is copied out of it), so its buffer can go back.
        if (this.options.returnBatches === true && msg.bytes.buffer instanceof ArrayBuffer) this.spent.push(msg.bytes.buffer);
        return;
      }
      case 'open': {
        const p = new Pipeline(msg.logs, this.pool);
        this.pipelines.set(msg.pipe, p);
        this.answer(msg.id, async () => {
          await p.ready();
          return p;
        });
        return;
      }
      case 'flush': {
        const p = this.pipelines.get(msg.pipe);
        this.answer(msg.id, async () => {
          await p?.flush();
          return p;
        });
        return;
      }
      case 'close':
        this.answer(msg.id, () => this.closePipeline(msg.pipe));
        return;
      case 'reopen':
        this.answer(msg.id, async () => {
          await this.pool.reopenAll();
          return undefined;
        });
        return;
    }
  }

  /** The proxy's side is gone: what it sent is written, and its pipelines closed. */
  async closeAll(): Promise<void> {
    clearInterval(this.statsTimer);
    // What arrived before the end is still the proxy's to log.
    while (this.inboxHead < this.inbox.length) this.process(this.inbox[this.inboxHead++]!);
    this.inbox.length = 0;
    this.inboxHead = 0;
    await Promise.all([...this.pipelines.keys()].map((pipe) => this.closePipeline(pipe)));
  }

  private async closePipeline(pipe: number): Promise<Pipeline | undefined> {
    const p = this.pipelines.get(pipe);
    if (p === undefined) return undefined;
    await p.close();
    if (this.pipelines.delete(pipe)) this.closedStats.push(...p.stats());
    this.published.delete(pipe);
    return p;
  }

  private answer(id: number, work: () => Promise<Pipeline | undefined>): void {
    work().then(
      (p) => this.post({ op: 'reply', id, stats: p?.stats() }),
      (err: unknown) => this.post({ op: 'reply', id, error: (err as Error).message }),
    );
  }

  private publishStats(): void {
    for (const [pipe, p] of this.pipelines) {
      const stats = p.stats();
      const key = JSON.stringify(stats);
      if (this.published.get(pipe) === key) continue;
      this.published.set(pipe, key);
      this.post({ op: 'stats', pipe, stats });
    }
  }
}

function pump(server: LogServer): void {
  server.pump();
}
