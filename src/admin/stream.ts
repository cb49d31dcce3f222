import type { ServerResponse } from 'node:http';
import type { AccessEntry } from '../core/entry.js';
import type { Encoder } from '../encoders/encoder.js';
import type { ExchangeTap } from '../emit/tap.js';

/**
 * What one client of /api/stream may have waiting while its socket does not take more: past either bound the
 * newest events are dropped, and counted, so a slow or paused client never grows kflog's memory. 1 MiB holds
 * hundreds of exchanges as JSON lines (a few KB each without bodies, 64 KB at most with a full capture).
 */
export const STREAM_MAX_EVENTS = 1000;
export const STREAM_MAX_BYTES = 1024 * 1024;
/** A comment line this often keeps idle connections open through proxies and shows the client kflog is there. */
const HEARTBEAT_MS = 15_000;
/**
 * Events are gathered this long and written to each client at once: one write (a syscall) per client per 50 ms
 * under load instead of one per exchange, well within the second a viewer has to show an exchange.
 */
const BATCH_MS = 50;

/** One client of /api/stream: an SSE response and what waits for its socket. */
class StreamClient {
  /** Batches of events waiting for the socket, each with how many events it holds. */
  private readonly waiting: Array<{ text: string; events: number }> = [];
  private waitingBytes = 0;
  private waitingEvents = 0;
  private missed = 0;
  private blocked = false;

  constructor(private readonly res: ServerResponse) {
    res.on('drain', () => this.drained());
  }

  /** Writes a batch of `events` events, or keeps it while the socket is full, or counts it missed past the bounds. */
  send(text: string, events: number): void {
    if (!this.blocked && this.missed === 0 && this.waiting.length === 0) {
      this.blocked = !this.res.write(text);
      return;
    }
    if (this.waitingEvents + events > STREAM_MAX_EVENTS || this.waitingBytes + text.length > STREAM_MAX_BYTES) {
      this.missed += events;
      return;
    }
    this.waiting.push({ text, events });
    this.waitingBytes += text.length;
    this.waitingEvents += events;
  }

  private drained(): void {
    this.blocked = false;
    while (this.waiting.length > 0 && !this.blocked) {
      const batch = this.waiting.shift()!;
      this.waitingBytes -= batch.text.length;
      this.waitingEvents -= batch.events;
      this.blocked = !this.res.write(batch.text);
    }
    // Said once what waited went out, in its place in the stream: the exchanges after it are the ones that came next.
    if (!this.blocked && this.missed > 0) {
      this.blocked = !this.res.write(`event: missed\ndata: ${JSON.stringify({ missed: this.missed })}\n\n`);
      this.missed = 0;
    }
  }

  heartbeat(): void {
    if (!this.blocked) this.blocked = !this.res.write(': kflog\n\n');
  }

  /** Ends the stream as a stream ends (its last chunk), so a client tells kflog stopping from a connection lost. */
  end(): void {
    this.res.end();
  }
}

/**
 * /api/stream: every access entry as it is emitted, one `exchange` event each whose data is the entry as the
 * json format writes it (secrets redacted; docs/formats.md). Encoded once, whatever the number of clients.
 */
export class ExchangeStream {
  private readonly clients = new Set<StreamClient>();
  private unsubscribe: (() => void) | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private batch = '';
  private batchEvents = 0;
  private batchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tap: ExchangeTap,
    private readonly encoder: Encoder,
  ) {
    this.heartbeat = setInterval(() => this.clients.forEach((c) => c.heartbeat()), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  open(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
    res.write(': kflog exchanges\n\n');
    const client = new StreamClient(res);
    this.clients.add(client);
    this.unsubscribe ??= this.tap.subscribe((entry) => this.deliver(entry));
    res.on('close', () => {
      this.clients.delete(client);
      if (this.clients.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    });
  }

  private deliver(entry: AccessEntry): void {
    const line = this.encoder.encode(entry);
    if (line === null) return;
    const text = typeof line === 'string' ? line : line.toString('utf8');
    this.batch += `event: exchange\nid: ${entry.trace_id}\ndata: ${text.trimEnd()}\n\n`;
    this.batchEvents++;
    // A burst of large entries goes out at once: the batch itself is held to a client's bound too.
    if (this.batch.length >= STREAM_MAX_BYTES) this.flush();
    else this.batchTimer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const { batch, batchEvents } = this;
    this.batch = '';
    this.batchEvents = 0;
    for (const c of this.clients) c.send(batch, batchEvents);
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.batchTimer);
    for (const c of this.clients) c.end();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
