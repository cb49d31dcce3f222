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

/** One client of /api/stream: an SSE response and what waits for its socket. */
class StreamClient {
  private readonly waiting: string[] = [];
  private waitingBytes = 0;
  private missed = 0;
  private blocked = false;

  constructor(private readonly res: ServerResponse) {
    res.on('drain', () => this.drained());
  }

  send(event: string): void {
    if (!this.blocked && this.missed === 0) {
      this.blocked = !this.res.write(event);
      return;
    }
    if (this.waiting.length >= STREAM_MAX_EVENTS || this.waitingBytes + event.length > STREAM_MAX_BYTES) {
      this.missed++;
      return;
    }
    this.waiting.push(event);
    this.waitingBytes += event.length;
  }

  private drained(): void {
    this.blocked = false;
    while (this.waiting.length > 0 && !this.blocked) {
      const event = this.waiting.shift()!;
      this.waitingBytes -= event.length;
      this.blocked = !this.res.write(event);
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
}

/**
 * /api/stream: every access entry as it is emitted, one `exchange` event each whose data is the entry as the
 * json format writes it (secrets redacted; docs/formats.md). Encoded once, whatever the number of clients.
 */
export class ExchangeStream {
  private readonly clients = new Set<StreamClient>();
  private unsubscribe: (() => void) | undefined;
  private readonly heartbeat: NodeJS.Timeout;

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
    const event = `event: exchange\nid: ${entry.trace_id}\ndata: ${text.trimEnd()}\n\n`;
    for (const c of this.clients) c.send(event);
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
