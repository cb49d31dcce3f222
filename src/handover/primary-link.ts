import type { LogLink, LogLinkEvents } from './log-link.js';
import type { FromLogSide, ToLogSide } from './log-protocol.js';

/**
 * The log hand-over's messages from the primary to a listener process; the cluster's control messages share
 * the channel (src/cluster/protocol.ts), and the listener process handles those itself.
 */
export type FromPrimaryLog =
  | FromLogSide
  /** Bytes of entry batches the primary has finished with (what bounds the bytes in flight). */
  | { op: 'consumed'; bytes: number };

/**
 * A listener process's link to the cluster's primary, which encodes and writes the logs of every listener
 * process. Messages go over the IPC channel node:cluster opened (advanced serialization, so batches stay bytes).
 */
export class PrimaryProcessLink implements LogLink {
  readonly name = 'log process';
  // A pipe write and a wake-up of the primary per batch: at 20 ms that is 50 a second, whatever the load.
  readonly batchDelayMs = 20;
  private taken = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  private events: LogLinkEvents | undefined;

  start(events: LogLinkEvents): void {
    if (process.send === undefined) throw new Error('PrimaryProcessLink needs an IPC channel to the primary');
    this.events = events;
    // The cluster's control messages arrive here too: they match neither op, and the listener process takes them.
    process.on('message', (msg: FromPrimaryLog) => {
      if (msg.op === 'consumed') this.taken += msg.bytes;
      else if (msg.op === 'reply' || msg.op === 'stats') events.message(msg);
    });
    process.once('disconnect', () => events.died(new Error('the primary process is gone')));
  }

  post(msg: ToLogSide): void {
    try {
      process.send!(msg, undefined, undefined, (err: Error | null) => {
        if (err) this.events?.died(err);
      });
    } catch (err) {
      this.events?.died(err as Error);
    }
  }

  consumed(): number {
    return this.taken;
  }

  // The channel's own reference belongs to node:cluster; a timer holds the process while answers are awaited.
  ref(): void {
    this.keepAlive ??= setInterval(() => undefined, 1 << 30);
  }

  unref(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  async stop(): Promise<void> {
    this.unref();
  }
}
