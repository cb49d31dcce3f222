import { optionOr } from '../core/module-options.js';
import { createNetWriter, NET_DEFAULTS, netOptionProperties, netSettings, type NetDefaults, type NetSettings } from './net.js';
import { registerWriter } from './registry.js';
import { FACILITIES, SyslogFormat, type SyslogProtocol } from './syslog-format.js';
import type { WriterModule, WriterOptions } from './writer.js';

interface SyslogSettings {
  net: NetSettings;
  protocol: SyslogProtocol;
  facility: string;
  appName: string;
}

const PROTOCOLS: readonly SyslogProtocol[] = ['rfc5424', 'rfc3164'];

const SYSLOG_DEFAULTS: Readonly<NetDefaults & { protocol: SyslogProtocol; facility: string; app_name: string }> = {
  ...NET_DEFAULTS,
  // RFC 6587's octet counting keeps a multi-line entry one message; rsyslog and syslog-ng detect it by itself.
  framing: 'octet-counting',
  // The current syslog protocol: a UTC timestamp with a year, which RFC 3164's lacks.
  protocol: 'rfc5424',
  // local0–7 are for local applications; the system's own facilities are not kflog's to take.
  facility: 'local0',
  app_name: 'kflog',
};

/** Config → settings; throws an OptionError naming the key `kflog run` would refuse (checked at load, too). */
function syslogSettings(options: WriterOptions): SyslogSettings {
  return {
    net: netSettings(options, SYSLOG_DEFAULTS),
    protocol: optionOr(options, 'protocol', SYSLOG_DEFAULTS.protocol, PROTOCOLS),
    facility: optionOr(options, 'facility', SYSLOG_DEFAULTS.facility, Object.keys(FACILITIES)),
    appName: optionOr(options, 'app_name', SYSLOG_DEFAULTS.app_name),
  };
}

/**
 * Any format to rsyslog, syslog-ng or a collector: each entry's line in an RFC 5424 or RFC 3164 header, sent
 * through the net writer (tcp with octet counting by default, udp one datagram per entry, or a unix stream).
 */
export const syslogWriter: WriterModule<SyslogSettings> = {
  name: 'syslog',
  schema: {
    options: {
      required: ['address'],
      properties: {
        ...netOptionProperties({
          address: 'tcp/host:port, udp/host:port or unix//path (a stream socket) of the syslog receiver.',
          framing: 'TCP framing (RFC 6587): "octet-counting" (multi-line entries stay one message) or "newline" (newlines inside an entry sent as #012). Default "octet-counting".',
        }),
        protocol: {
          enum: ['rfc5424', 'rfc3164'],
          description: 'Header: RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PID - - line", UTC) or RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOST APP[PID]: line", local time). Default "rfc5424".',
        },
        facility: {
          enum: [
            'kern',
            'user',
            'mail',
            'daemon',
            'auth',
            'syslog',
            'lpr',
            'news',
            'uucp',
            'cron',
            'authpriv',
            'ftp',
            'ntp',
            'security',
            'console',
            'solaris-cron',
            'local0',
            'local1',
            'local2',
            'local3',
            'local4',
            'local5',
            'local6',
            'local7',
          ],
          description: 'Facility. Default "local0". The severity comes from each entry\'s level: error → err, warn → warning, info → info, debug → debug.',
        },
        app_name: { type: 'string', description: 'APP-NAME / TAG. Default "kflog".' },
      },
    },
  },
  defaults: SYSLOG_DEFAULTS,
  settings: syslogSettings,
  create: ({ net, protocol, facility, appName }) => {
    const key = ['syslog', net.address.text, net.framing, protocol, facility, appName].join(':');
    return createNetWriter(net, new SyslogFormat({ protocol, facility, appName }), key, `syslog ${protocol} ${net.address.text}`);
  },
};

registerWriter(syslogWriter);
