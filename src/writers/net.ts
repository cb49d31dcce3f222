import { parseDuration } from '../config/duration.js';
import { parseNetAddress } from './net-address.js';
import { DatagramWriter } from './net-datagram.js';
import { PLAIN_FORMAT, type Framing, type MessageFormat, type NetSettings } from './net-message.js';
import { StreamWriter } from './net-stream.js';
import { registerWriter, registerWriterCheck, WriterOptionError } from './registry.js';
import type { Writer, WriterOptions } from './writer.js';

export { PLAIN_FORMAT, type Framing, type MessageFormat, type NetSettings };

/** Config → settings; `framing` defaults differ between net (newline) and syslog (octet-counting). */
export function netSettings(options: WriterOptions, defaultFraming: Framing): NetSettings {
  let address: NetSettings['address'];
  try {
    address = parseNetAddress(String(options.address));
  } catch (err) {
    throw new WriterOptionError('address', (err as Error).message);
  }
  const dial = typeof options.dial_timeout === 'string' ? parseDuration(options.dial_timeout) : undefined;
  return {
    address,
    dialTimeoutMs: dial ?? 3000,
    softStart: options.soft_start !== false,
    bufferBytes: typeof options.buffer_bytes === 'number' ? options.buffer_bytes : 4 * 1024 * 1024,
    framing: options.framing === 'newline' || options.framing === 'octet-counting' ? options.framing : defaultFraming,
  };
}

/** A tcp/unix stream writer (buffering, reconnecting) or a udp datagram writer, by the address. */
export function createNetWriter(settings: NetSettings, format: MessageFormat, key: string, description: string): Writer {
  return settings.address.transport === 'udp'
    ? new DatagramWriter(settings, format, key, description)
    : new StreamWriter(settings, format, key, description);
}

registerWriter('net', (options) => {
  const settings = netSettings(options, 'newline');
  return createNetWriter(settings, PLAIN_FORMAT, 'net:' + settings.address.text + ':' + settings.framing, 'net ' + settings.address.text);
});
registerWriterCheck('net', (options) => void netSettings(options, 'newline'));
