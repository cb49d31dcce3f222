// What the net writers share: settings, how an entry becomes a message, and how messages are framed.
import type { Level } from '../core/entry.js';
import type { NetAddress } from './net-address.js';
import type { EntryAccount, WriterHealth } from './writer.js';

export type Framing = 'newline' | 'octet-counting';

export interface NetSettings {
  address: NetAddress;
  dialTimeoutMs: number;
  /** Start even when the receiver is down (lines are buffered); false: open() fails until it connects once. */
  softStart: boolean;
  /** Bytes held while the receiver is away (or slower than the logs), sent in order when it is back. */
  bufferBytes: number;
  /** How messages are delimited on a stream (RFC 6587); a datagram is one message. */
  framing: Framing;
}

/** Turns one encoded entry into the message sent for it: the entry's line by default, syslog adds a header. */
export interface MessageFormat {
  /** `text` has no trailing newline. */
  message(text: string, level: Level, ts: number): string;
  /** Whether newlines inside a message must be escaped (#012) on a newline-framed stream. */
  readonly escapeNewlines: boolean;
}

export const PLAIN_FORMAT: MessageFormat = {
  message: (text) => text,
  escapeNewlines: false,
};

/** The text of an entry without its final newline (a message carries no trailer of its own). */
export function entryText(entry: string | Buffer): string {
  const text = typeof entry === 'string' ? entry : entry.toString('utf8');
  return text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text;
}

/** One message framed for a stream: "LEN SP MSG" (octet counting) or "MSG LF". */
export function frame(message: string, framing: Framing, escapeNewlines: boolean): string {
  if (framing === 'octet-counting') return Buffer.byteLength(message) + ' ' + message;
  return (escapeNewlines && message.includes('\n') ? message.replace(/\r?\n/g, '#012') : message) + '\n';
}

/** Writes batch lines (write() without entries: one message per line, level info) for direct users. */
export function linesAsEntries(batch: string | Buffer): { entries: string[]; levels: Level[]; times: number[] } {
  const text = typeof batch === 'string' ? batch : batch.toString('utf8');
  const entries = text.split('\n');
  if (entries[entries.length - 1] === '') entries.pop();
  const now = Date.now();
  return { entries, levels: entries.map(() => 'info' as const), times: entries.map(() => now) };
}

/** An account for writes that came without one: losses still reject nothing, so they are at least not hidden. */
export class UncountedAccount implements EntryAccount {
  lost = 0;
  overflow(n: number): void {
    this.lost += n;
  }
  undelivered(n: number): void {
    this.lost += n;
  }
}

/**
 * What the stream and the datagram writer share: their settings and message format, their names, whether a dial
 * that fails at start fails the start (not with soft_start), and the health they report faults to.
 */
export abstract class NetWriterBase {
  readonly isTTY = false;
  protected health: WriterHealth | undefined;

  constructor(
    protected readonly settings: NetSettings,
    protected readonly format: MessageFormat,
    readonly key: string,
    readonly description: string,
  ) {}

  get strictStart(): boolean {
    return !this.settings.softStart;
  }

  watch(health: WriterHealth): void {
    this.health = health;
  }
}
