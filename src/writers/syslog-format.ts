import { hostname } from 'node:os';
import type { Level } from '../core/entry.js';
import type { MessageFormat } from './net-message.js';

export type SyslogProtocol = 'rfc5424' | 'rfc3164';

/** RFC 5424 §6.2.1 facility codes by name. */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10,
  ftp: 11, ntp: 12, security: 13, console: 14, 'solaris-cron': 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** kflog level → syslog severity: error 3 (err), warn 4 (warning), info 6 (informational), debug 7. */
export const SEVERITY: Readonly<Record<Level, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface SyslogOptions {
  protocol: SyslogProtocol;
  facility: string;
  appName: string;
  /** Defaults to the machine's name. */
  hostname?: string;
  /** Defaults to this process. */
  pid?: number;
}

/**
 * Wraps any encoder's line in a syslog header, so every format can go to rsyslog or a collector:
 * RFC 5424 `<PRI>1 2026-11-21T08:46:39.123Z host kflog 4242 - - line` or
 * RFC 3164 `<PRI>Nov 21 09:46:39 host kflog[4242]: line` (local time, day space-padded as the RFC says).
 * PRI = facility × 8 + severity, the severity from the entry's level.
 */
export class SyslogFormat implements MessageFormat {
  readonly escapeNewlines = true;
  private readonly pri: Record<Level, string>;
  /** Everything after the timestamp up to the message. */
  private readonly tail: string;
  private readonly rfc5424: boolean;
  private lastSecond = -1;
  private lastStamp = '';

  constructor(options: SyslogOptions) {
    const facility = FACILITIES[options.facility];
    if (facility === undefined) {
      throw new Error(`syslog facility "${options.facility}" is not one of ${Object.keys(FACILITIES).join(', ')}`);
    }
    this.rfc5424 = options.protocol === 'rfc5424';
    const pri = (l: Level): string => '<' + (facility * 8 + SEVERITY[l]) + '>' + (this.rfc5424 ? '1 ' : '');
    this.pri = { debug: pri('debug'), info: pri('info'), warn: pri('warn'), error: pri('error') };
    const host = printable(options.hostname ?? hostname(), 255) || '-';
    const pid = String(options.pid ?? process.pid);
    this.tail = this.rfc5424
      ? ' ' + host + ' ' + (printable(options.appName, 48) || '-') + ' ' + pid + ' - - '
      : ' ' + host + ' ' + (printable(options.appName, 32) || 'kflog') + '[' + pid + ']: ';
  }

  message(text: string, level: Level, ts: number): string {
    return this.pri[level] + (this.rfc5424 ? new Date(ts).toISOString() : this.bsdStamp(ts)) + this.tail + text;
  }

  /** "Nov  1 09:46:39", local time; computed once a second. */
  private bsdStamp(ts: number): string {
    const second = Math.floor(ts / 1000);
    if (second !== this.lastSecond) {
      const d = new Date(ts);
      const day = d.getDate();
      this.lastStamp = MONTHS[d.getMonth()] + (day < 10 ? '  ' : ' ') + day + ' ' + two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
      this.lastSecond = second;
    }
    return this.lastStamp;
  }
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Header fields are printable US-ASCII without spaces (RFC 5424 §6), at most `max` characters. */
function printable(s: string, max: number): string {
  return s.replace(/[^\x21-\x7e]/g, '').slice(0, max);
}
