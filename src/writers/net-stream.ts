import { connect, type Socket } from 'node:net';
import { frame, entryText, linesAsEntries, NetWriterBase, UncountedAccount } from './net-message.js';
import type { EntryAccount, EntryBatch, Writer } from './writer.js';

/** Entries framed into one chunk, and whose they are (so a loss is charged to the right log). */
interface Chunk {
  data: Buffer;
  count: number;
  account: EntryAccount;
}

const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5000;

/**
 * A TCP or Unix stream to a receiver (rsyslog, Vector, a collector). Lines are taken into a bounded buffer and
 * written in order as the socket accepts them; while the receiver is away the buffer holds them and the writer
 * redials with backoff, sending them first when it is back. When the buffer is full, entries are dropped and
 * counted; buffered entries still unsent at shutdown are counted as failed. Data the kernel took before the
 * receiver vanished cannot be known lost (plain TCP has no acknowledgements): that is the one uncountable case.
 */
export class StreamWriter extends NetWriterBase implements Writer {
  private socket: Socket | undefined;
  private connected = false;
  /** Bumped per connection: write callbacks of an old connection are ignored. */
  private generation = 0;
  /** Not yet handed to the socket. */
  private queue: Chunk[] = [];
  /** Handed to the socket, its write callback not yet called. */
  private inflight: Chunk[] = [];
  /** Bytes of queue + inflight: the bound applies to both. */
  private held = 0;
  private started = false;
  private everConnected = false;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = BACKOFF_FIRST_MS;
  private down: Error | undefined;
  private lastError: Error | undefined;
  private waitingDrain = false;
  /** Called on each connection outcome, for open() without soft_start and for close(). */
  private outcomeWaiters: Array<(err: Error | undefined) => void> = [];
  private emptyWaiters: Array<() => void> = [];

  async open(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.dial();
    }
    if (this.settings.softStart || this.everConnected || this.connected) return;
    const err = await this.nextOutcome();
    if (err) throw new Error(`${this.description}: cannot connect (soft_start is off): ${err.message}`);
  }

  async write(batch: string | Buffer): Promise<void> {
    const account = new UncountedAccount();
    await this.writeEntries({ ...linesAsEntries(batch), account });
    if (account.lost > 0) throw new Error(`${this.description}: ${account.lost} lines dropped, buffer full`);
  }

  writeEntries(batch: EntryBatch): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`${this.description} is closed`));
    const { entries, levels, times, account } = batch;
    const { framing } = this.settings;
    const escape = this.format.escapeNewlines;
    let text = '';
    let bytes = 0;
    let taken = 0;
    for (; taken < entries.length; taken++) {
      const framed = frame(this.format.message(entryText(entries[taken]!), levels[taken]!, times[taken]!), framing, escape);
      const size = Buffer.byteLength(framed);
      // Always take one entry into an empty buffer, however large: the bound must not stop all progress.
      if (this.held + bytes + size > this.settings.bufferBytes && this.held + bytes > 0) break;
      text += framed;
      bytes += size;
    }
    if (taken < entries.length) account.overflow(entries.length - taken);
    if (taken > 0) {
      this.queue.push({ data: Buffer.from(text), count: taken, account });
      this.held += bytes;
      this.pump();
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    // Buffered lines get as long as a connection attempt to go out: the receiver may be slow, or just restarting.
    const deadline = this.settings.dialTimeoutMs;
    if (this.held > 0) {
      // One last chance for what is buffered: redial now if the receiver is away, then let the socket drain.
      if (!this.connected && !this.socket && this.started) this.dial();
      await withTimeout(this.whenEmpty(), deadline);
    }
    const unsent = [...this.inflight, ...this.queue];
    this.inflight = [];
    this.queue = [];
    this.held = 0;
    if (unsent.length > 0) {
      const why = new Error(`${this.description}: receiver unreachable at shutdown`);
      for (const c of unsent) c.account.undelivered(c.count, why);
    }
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (socket && !socket.destroyed) {
      // All sent: end politely (the receiver sees a clean close). Given up on: cut it.
      if (unsent.length === 0) await withTimeout(new Promise<void>((resolve) => socket.end(resolve)), deadline);
      socket.destroy();
    }
    for (const w of this.outcomeWaiters.splice(0)) w(new Error(`${this.description} is closed`));
  }

  private dial(): void {
    this.reconnectTimer = undefined;
    if (this.closing && this.held === 0) return;
    const a = this.settings.address;
    const socket = a.transport === 'unix' ? connect({ path: a.path }) : connect({ host: a.host, port: a.port });
    this.socket = socket;
    this.lastError = undefined;
    const gen = ++this.generation;
    socket.setNoDelay(true);
    socket.setTimeout(this.settings.dialTimeoutMs, () => {
      if (!this.connected) socket.destroy(new Error(`connect timed out after ${this.settings.dialTimeoutMs} ms`));
    });
    socket.on('connect', () => {
      if (gen !== this.generation) return;
      socket.setTimeout(0);
      this.connected = true;
      this.everConnected = true;
      this.backoffMs = BACKOFF_FIRST_MS;
      if (this.down) {
        this.down = undefined;
        this.health?.up();
      }
      this.settleOutcome(undefined);
      this.pump();
    });
    socket.on('data', () => undefined); // receivers do not talk back; keep reading so the socket sees the end
    socket.on('end', () => this.lost(gen, socket, new Error('connection closed by the receiver')));
    socket.on('error', (err: Error) => {
      this.lastError = err;
    });
    socket.on('close', () => this.lost(gen, socket, this.lastError ?? new Error('connection closed')));
  }

  /** The connection ended: what it had not confirmed goes back to the front of the buffer, and we redial. */
  private lost(gen: number, socket: Socket, err: Error): void {
    if (gen !== this.generation) return;
    this.generation++;
    socket.destroy();
    if (this.socket === socket) this.socket = undefined;
    this.connected = false;
    this.waitingDrain = false;
    if (this.inflight.length > 0) {
      this.queue = this.inflight.concat(this.queue);
      this.inflight = [];
    }
    const message = `${this.settings.address.text}: ${err.message}`;
    if (!this.down) {
      this.down = new Error(message);
      this.health?.down(this.down);
    }
    this.settleOutcome(this.down);
    if (this.closing && this.held === 0) return;
    this.reconnectTimer = setTimeout(() => this.dial(), this.backoffMs);
    this.reconnectTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }

  /** Hands buffered chunks to the socket in order until it asks us to wait. */
  private pump(): void {
    const socket = this.socket;
    if (!this.connected || !socket || this.waitingDrain) return;
    const gen = this.generation;
    while (this.queue.length > 0) {
      const chunk = this.queue.shift()!;
      this.inflight.push(chunk);
      const more = socket.write(chunk.data, (err) => this.written(gen, chunk, err));
      if (!more) {
        this.waitingDrain = true;
        socket.once('drain', () => {
          if (gen !== this.generation) return;
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
  }

  private written(gen: number, chunk: Chunk, err: Error | null | undefined): void {
    if (err || gen !== this.generation) return; // the connection's end puts it back in the buffer
    const i = this.inflight.indexOf(chunk);
    if (i < 0) return;
    this.inflight.splice(i, 1);
    this.held -= chunk.data.length;
    if (this.held === 0) for (const w of this.emptyWaiters.splice(0)) w();
  }

  private whenEmpty(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private nextOutcome(): Promise<Error | undefined> {
    return new Promise((resolve) => this.outcomeWaiters.push(resolve));
  }

  private settleOutcome(err: Error | undefined): void {
    for (const w of this.outcomeWaiters.splice(0)) w(err);
  }
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
