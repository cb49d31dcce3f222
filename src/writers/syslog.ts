import { createNetWriter, netSettings, type NetSettings } from './net.js';
import { registerWriter, registerWriterCheck } from './registry.js';
import { SyslogFormat, type SyslogProtocol } from './syslog-format.js';
import type { WriterOptions } from './writer.js';

interface SyslogSettings {
  net: NetSettings;
  protocol: SyslogProtocol;
  facility: string;
  appName: string;
  format: SyslogFormat;
}

/** Config → settings; throws on options `kflog run` would refuse (checked at load, too). */
function syslogSettings(options: WriterOptions): SyslogSettings {
  const net = netSettings(options, 'octet-counting');
  const protocol: SyslogProtocol = options.protocol === 'rfc3164' ? 'rfc3164' : 'rfc5424';
  const facility = typeof options.facility === 'string' ? options.facility : 'local0';
  const appName = typeof options.app_name === 'string' ? options.app_name : 'kflog';
  return { net, protocol, facility, appName, format: new SyslogFormat({ protocol, facility, appName }) };
}

/**
 * Any format to rsyslog, syslog-ng or a collector: each entry's line in an RFC 5424 or RFC 3164 header, sent
 * through the net writer (tcp with octet counting by default, udp one datagram per entry, or a unix stream).
 */
registerWriter('syslog', (options) => {
  const { net, protocol, facility, appName, format } = syslogSettings(options);
  const key = ['syslog', net.address.text, net.framing, protocol, facility, appName].join(':');
  return createNetWriter(net, format, key, `syslog ${protocol} ${net.address.text}`);
});
registerWriterCheck('syslog', (options) => void syslogSettings(options));
