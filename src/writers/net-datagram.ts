import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { entryText, linesAsEntries, NetWriterBase, UncountedAccount } from './net-message.js';
import type { Level } from '../core/entry.js';
import type { EntryBatch, Writer } from './writer.js';

/** Largest UDP payload over IPv4; a longer message is cut (receivers cut far earlier: rsyslog at 8 KiB). */
const MAX_DATAGRAM = 65_507;
/** A refused datagram (ICMP port unreachable) marks the receiver down until sends go unrefused this long. */
const QUIET_BEFORE_UP_MS = 1000;

/**
 * UDP: one datagram per entry, no framing, nothing to reconnect. "Written" means handed to the kernel: UDP says
 * nothing about delivery. A receiver that is not listening shows up as refused datagrams (ICMP, reported by the
 * kernel on the connected socket), reported once as a fault; sending continues, and it is reported recovered once
 * sends have gone unrefused for a second.
 */
export class DatagramWriter extends NetWriterBase implements Writer {
  private socket: Socket | undefined;
  private opening: Promise<void> | undefined;
  private down = false;
  private lastRefusal = 0;
  private closed = false;

  open(): Promise<void> {
    this.opening ??= this.connect().catch((err: Error) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  async write(batch: string | Buffer): Promise<void> {
    await this.writeEntries({ ...linesAsEntries(batch), account: new UncountedAccount() });
  }

  async writeEntries(batch: EntryBatch): Promise<void> {
    if (this.closed) throw new Error(`${this.description} is closed`);
    await this.open();
    const socket = this.socket!;
    const { entries, levels, times } = batch;
    if (entries.length === 0) return;
    const last = entries.length - 1;
    for (let i = 0; i < last; i++) socket.send(this.datagram(entries[i]!, levels[i]!, times[i]!));
    // Datagrams go out in order: the last one's callback means all were handed to the kernel (errors of the
    // others arrive as 'error' events).
    const data = this.datagram(entries[last]!, levels[last]!, times[last]!);
    await new Promise<void>((resolve, reject) => socket.send(data, (err) => (err ? reject(err) : resolve())));
    if (this.down && Date.now() - this.lastRefusal >= QUIET_BEFORE_UP_MS) {
      this.down = false;
      this.health?.up();
    }
  }

  private datagram(entry: string | Buffer, level: Level, ts: number): Buffer {
    const data = Buffer.from(this.format.message(entryText(entry), level, ts));
    return data.length > MAX_DATAGRAM ? data.subarray(0, MAX_DATAGRAM) : data;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => undefined);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private async connect(): Promise<void> {
    const a = this.settings.address;
    if (a.transport === 'unix') throw new Error('unix addresses are streams');
    const socket = createSocket(isIPv6(a.host) ? 'udp6' : 'udp4');
    socket.on('error', (err: NodeJS.ErrnoException) => this.refused(err));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(a.port, a.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.unref();
    this.socket = socket;
  }

  private refused(err: NodeJS.ErrnoException): void {
    this.lastRefusal = Date.now();
    if (this.down) return;
    this.down = true;
    this.health?.down(new Error(`${this.settings.address.text}: ${err.code === 'ECONNREFUSED' ? 'datagrams refused: nothing listens there' : err.message}`));
  }
}
