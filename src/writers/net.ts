import { parseDuration } from '../core/duration.js';
import { optionOr, OptionError } from '../core/module-options.js';
import { parseNetAddress } from './net-address.js';
import { DatagramWriter } from './net-datagram.js';
import { PLAIN_FORMAT, type Framing, type MessageFormat, type NetSettings } from './net-message.js';
import { StreamWriter } from './net-stream.js';
import { registerWriter } from './registry.js';
import type { Writer, WriterModule, WriterOptions } from './writer.js';

export { PLAIN_FORMAT, type Framing, type MessageFormat, type NetSettings };

const FRAMINGS: readonly Framing[] = ['newline', 'octet-counting'];

/** The options net and syslog share, with their defaults: syslog's framing differs. */
export interface NetDefaults {
  dial_timeout: string;
  soft_start: boolean;
  buffer_bytes: number;
  framing: Framing;
}

export const NET_DEFAULTS: Readonly<NetDefaults> = {
  // Caddy's net writer dials with a 3s timeout; shutdown gives buffered lines as long.
  dial_timeout: '3s',
  // A log receiver that is down must not keep the proxy from starting (Caddy's soft_start): lines are buffered.
  soft_start: true,
  // A few seconds of a busy log while the receiver restarts, bounded so memory stays bounded.
  buffer_bytes: 4 * 1024 * 1024,
  // One line per entry, what a plain `nc -l` or a line-reading collector expects.
  framing: 'newline',
};

/**
 * The schema of the options net and syslog share (see NetDefaults), with the two descriptions that differ: what
 * the address names, and the framing with its own default.
 */
export function netOptionProperties(describe: { address: string; framing: string }): Record<string, object> {
  return {
    address: {
      type: 'string',
      pattern: '^(tcp/.+:[0-9]+|udp/.+:[0-9]+|unix//.+)$',
      description: describe.address,
    },
    dial_timeout: {
      $ref: '#/$defs/duration',
      description: 'Connect timeout; also how long shutdown waits for buffered lines to go out. Default "3s".',
    },
    soft_start: {
      type: 'boolean',
      description: 'Start even when the receiver is down: lines are buffered and kflog redials (backoff 200 ms doubling to 5 s). false: kflog does not start until it connects. Default true.',
    },
    buffer_bytes: {
      type: 'integer',
      minimum: 0,
      description: 'Bytes held while the receiver is away or slower than the log, sent in order when it is back; past it entries are dropped and counted. Default 4194304.',
    },
    framing: { enum: FRAMINGS, description: describe.framing },
  };
}

/** Config → settings, for net and for syslog (with its own defaults). Throws an OptionError naming the key. */
export function netSettings(options: WriterOptions, defaults: Readonly<NetDefaults>): NetSettings {
  let address: NetSettings['address'];
  try {
    address = parseNetAddress(String(options.address));
  } catch (err) {
    throw new OptionError(['address'], (err as Error).message);
  }
  const dial = optionOr(options, 'dial_timeout', defaults.dial_timeout);
  const dialTimeoutMs = parseDuration(dial);
  if (dialTimeoutMs === undefined) throw new OptionError(['dial_timeout'], `dial_timeout "${dial}" is not a duration such as "3s"`);
  return {
    address,
    dialTimeoutMs,
    softStart: optionOr(options, 'soft_start', defaults.soft_start),
    bufferBytes: optionOr(options, 'buffer_bytes', defaults.buffer_bytes),
    framing: optionOr(options, 'framing', defaults.framing, FRAMINGS),
  };
}

/** A tcp/unix stream writer (buffering, reconnecting) or a udp datagram writer, by the address. */
export function createNetWriter(settings: NetSettings, format: MessageFormat, key: string, description: string): Writer {
  return settings.address.transport === 'udp'
    ? new DatagramWriter(settings, format, key, description)
    : new StreamWriter(settings, format, key, description);
}

export const netWriter: WriterModule<NetSettings> = {
  name: 'net',
  schema: {
    options: {
      required: ['address'],
      properties: {
        ...netOptionProperties({
          address: 'tcp/host:port, udp/host:port (IPv6: udp/[::1]:514) or unix//path (a stream socket).',
          framing: 'Stream framing (RFC 6587): a line per entry, or "LEN SP entry" (multi-line entries stay whole). UDP sends a datagram per entry. Default "newline".',
        }),
      },
    },
  },
  defaults: NET_DEFAULTS,
  settings: (options) => netSettings(options, NET_DEFAULTS),
  create: (settings) =>
    createNetWriter(settings, PLAIN_FORMAT, 'net:' + settings.address.text + ':' + settings.framing, 'net ' + settings.address.text),
};

registerWriter(netWriter);
