import { createNetWriter, netSettings } from './net.js';
import { registerWriter } from './registry.js';
import { SyslogFormat, type SyslogProtocol } from './syslog-format.js';

/**
 * Any format to rsyslog, syslog-ng or a collector: each entry's line in an RFC 5424 or RFC 3164 header, sent
 * through the net writer (tcp with octet counting by default, udp one datagram per entry, or a unix stream).
 */
registerWriter('syslog', (options) => {
  const settings = netSettings(options, 'octet-counting');
  const protocol: SyslogProtocol = options.protocol === 'rfc3164' ? 'rfc3164' : 'rfc5424';
  const facility = typeof options.facility === 'string' ? options.facility : 'local0';
  const appName = typeof options.app_name === 'string' ? options.app_name : 'kflog';
  const format = new SyslogFormat({ protocol, facility, appName });
  const key = ['syslog', settings.address.text, settings.framing, protocol, facility, appName].join(':');
  return createNetWriter(settings, format, key, `syslog ${protocol} ${settings.address.text}`);
});
