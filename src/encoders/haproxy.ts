import { hostname } from 'node:os';
import type { AccessEntry, Entry, HeaderMap, RequestInfo } from '../core/entry.js';
import { optionOr } from '../core/module-options.js';
import type { Encoder, EncoderContext, EncoderModule, EncoderOptions } from './encoder.js';
import { haproxyHeaderEscape, haproxyNameEscape, haproxyUrlEscape } from './escape.js';
import { lastHeader } from './headers.js';
import { isCredentialHeader, REDACTED } from './redact.js';
import { registerEncoder } from './registry.js';
import { HaproxyDate, SyslogTime } from './time.js';

/** One `capture request|response header NAME len N`. */
export interface HeaderCapture {
  name: string;
  len: number;
}

/**
 * HAProxy's `option httplog` line, field for field:
 *   %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
 * frontend = forward id, backend = target name, server = pod or upstream host:port. Captured headers are escaped
 * with HAProxy's hdr_encode_map and the request line with its url_encode_map (#XX), so no request can add a line,
 * a field or a quote. With `syslog_header`, the RFC 3164 prefix lnav needs to recognise haproxy_log.
 */
export class HaproxyEncoder implements Encoder {
  private readonly date: HaproxyDate;
  private readonly syslogTime: SyslogTime | undefined;
  private readonly syslogTail: string;
  private readonly requestCaptures: HeaderCapture[] | undefined;
  private readonly responseCaptures: HeaderCapture[] | undefined;

  constructor(
    settings: HaproxySettings,
    private readonly ctx: EncoderContext,
  ) {
    this.date = new HaproxyDate(settings.time_local);
    this.syslogTime = settings.syslog_header ? new SyslogTime(settings.time_local) : undefined;
    // Not a default of settings(): the machine's name is known where the log is written, not where it is checked.
    const host = settings.hostname !== undefined && settings.hostname !== '' ? settings.hostname : hostname().split('.')[0] || 'localhost';
    this.syslogTail = ' ' + haproxyNameEscape(host) + ' kflog[' + process.pid + ']: ';
    this.requestCaptures = settings.capture_request_headers;
    this.responseCaptures = settings.capture_response_headers;
  }

  encode(entry: Entry): string | null {
    if (entry.kind !== 'access') return null;
    return this.line(entry);
  }

  private line(e: AccessEntry): string {
    const r = e.request ?? EMPTY_REQUEST;
    const badRequest = r.raw_line !== undefined;
    const frontend = haproxyNameEscape(e.forward?.id ?? '-');
    let backend: string;
    let server: string;
    if (badRequest) {
      // HAProxy never chose a backend for a request it could not parse: the frontend stands in, with no server.
      backend = frontend;
      server = '<NOSRV>';
    } else {
      backend = haproxyNameEscape(e.forward?.backend || '-');
      const up = e.upstream;
      server = up?.pod ? haproxyNameEscape(up.pod) : up?.address ? haproxyNameEscape(up.address) : '<NOSRV>';
    }
    const t = e.timings ?? NO_TIMINGS;
    const c = e.conn ?? NO_CONN;
    let s = this.syslogTime ? this.syslogTime.format(e.ts) + this.syslogTail : '';
    s += (r.remote_ip || '-') + ':' + (r.remote_port || '0') + ' [' + this.date.format(e.start ?? e.ts) + '] ' + frontend + ' ' + backend + '/' + server +
      ' ' + t.tq + '/' + t.tw + '/' + t.tc + '/' + t.tr + '/' + Math.max(0, t.tt) +
      ' ' + (e.status ? e.status : -1) + ' ' + (e.bytes_sent ?? 0) + ' - - ' + terminationState(e.termination_state) +
      ' ' + c.actconn + '/' + c.feconn + '/' + c.beconn + '/' + c.srv_conn + '/' + c.retries + ' 0/0 ';
    if (badRequest) return s + '"<BADREQ>"\n';
    if (this.requestCaptures) s += this.captured(this.requestCaptures, r.headers);
    if (this.responseCaptures) s += this.captured(this.responseCaptures, e.resp_headers);
    return s + '"' + haproxyUrlEscape(requestLine(r)) + '"\n';
  }

  /** `{v1|v2} `: the last occurrence of each header, cut to its len, empty when absent. */
  private captured(list: HeaderCapture[], headers: HeaderMap | undefined): string {
    let s = '{';
    for (let i = 0; i < list.length; i++) {
      if (i > 0) s += '|';
      const cap = list[i]!;
      const value = lastHeader(headers, cap.name);
      if (value === undefined) continue;
      if (!this.ctx.logCredentials && isCredentialHeader(cap.name)) s += REDACTED;
      else s += haproxyHeaderEscape(value.length > cap.len ? value.slice(0, cap.len) : value);
    }
    return s + '} ';
  }
}

const EMPTY_REQUEST: RequestInfo = { remote_ip: '', remote_port: '', proto: '', method: '', host: '', uri: '', headers: {} };
const NO_TIMINGS = { tq: -1, tw: -1, tc: -1, tr: -1, tt: 0 };
const NO_CONN = { actconn: 0, feconn: 0, beconn: 0, srv_conn: 0, retries: 0 };

/** A capture's `len` when none is given: HAProxy requires one; 64 keeps a User-Agent or a Host readable. */
const CAPTURE_LEN = 64;

function captures(v: unknown): HeaderCapture[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((c: { name?: unknown; len?: unknown }) => ({
    name: String(c.name ?? ''),
    len: typeof c.len === 'number' && c.len > 0 ? Math.floor(c.len) : CAPTURE_LEN,
  }));
}

function requestLine(r: RequestInfo): string {
  const method = r.method ?? '';
  if (r.proto === 'HTTP/2.0') return method + ' ' + h2Uri(r) + ' HTTP/2.0';
  return r.proto ? method + ' ' + (r.uri ?? '') + ' ' + r.proto : method + ' ' + (r.uri ?? '');
}

/**
 * The URI HAProxy (2.1 and later) logs for an HTTP/2 request: the absolute form `<:scheme>://<:authority><:path>`
 * when the client sent :authority, as every HTTP/2 client is asked to (RFC 9113 §8.3.1), with a :path of `*`
 * left out; the :path alone when the client sent a Host header instead (h2_prepare_htx_reqline in HAProxy's
 * src/h2.c). An entry keeps neither pseudo-header as such: the scheme is the connection's (https on a TLS
 * listener), and a Host header among the logged ones means the host came from it, not from :authority.
 */
function h2Uri(r: RequestInfo): string {
  const path = r.uri ?? '';
  if (!r.host || lastHeader(r.headers, 'Host') !== undefined) return path;
  return (r.tls !== undefined ? 'https://' : 'http://') + r.host + (path === '*' ? '' : path);
}

/** Always four characters: readers split the line on spaces and lnav expects exactly four. */
function terminationState(s: string | undefined): string {
  if (s === undefined) return '----';
  const clean = haproxyNameEscape(s);
  return clean.length === 4 ? clean : (clean + '----').slice(0, 4);
}

export interface HaproxySettings {
  syslog_header: boolean;
  /** Absent: this machine's short host name, looked up by create(). */
  hostname: string | undefined;
  time_local: boolean;
  capture_request_headers: HeaderCapture[] | undefined;
  capture_response_headers: HeaderCapture[] | undefined;
}

const HAPROXY_DEFAULTS: Readonly<Pick<HaproxySettings, 'syslog_header' | 'time_local'>> = {
  // HAProxy logs through syslog, which adds the prefix: a line of its own has none.
  syslog_header: false,
  // HAProxy's dates and syslog's prefix are local time.
  time_local: true,
};

function haproxySettings(options: EncoderOptions): HaproxySettings {
  return {
    syslog_header: optionOr(options, 'syslog_header', HAPROXY_DEFAULTS.syslog_header),
    hostname: options.hostname === undefined ? undefined : optionOr(options, 'hostname', ''),
    time_local: optionOr(options, 'time_local', HAPROXY_DEFAULTS.time_local),
    capture_request_headers: captures(options.capture_request_headers),
    capture_response_headers: captures(options.capture_response_headers),
  };
}

export const haproxyEncoder: EncoderModule<HaproxySettings> = {
  name: 'haproxy',
  schema: {
    options: {
      properties: {
        syslog_header: {
          type: 'boolean',
          description: 'Prefix `Mon dd hh:mm:ss host kflog[pid]: ` (what lnav recognises). Default false.',
        },
        hostname: {
          type: 'string',
          pattern: '^[^\\s]+$',
          description: "Host in the syslog prefix. Default: this machine's short hostname.",
        },
        time_local: {
          type: 'boolean',
          description: 'Accept dates and the syslog prefix in local time, as HAProxy and syslog write them; false: UTC. Default true.',
        },
        capture_request_headers: {
          type: 'array',
          items: { $ref: '#/$defs/header_capture' },
          description: "Request headers captured in braces, as HAProxy's `capture request header NAME len N`. Absent: no braces.",
        },
        capture_response_headers: {
          type: 'array',
          items: { $ref: '#/$defs/header_capture' },
          description: "Response headers captured in braces, as HAProxy's `capture response header NAME len N`. Absent: no braces.",
        },
      },
    },
    defs: {
      header_capture: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, description: 'Header name (case-insensitive).' },
          len: { type: 'integer', minimum: 1, default: 64, description: 'Characters kept. Default 64.' },
        },
      },
    },
  },
  defaults: HAPROXY_DEFAULTS,
  settings: haproxySettings,
  create: (settings, ctx) => new HaproxyEncoder(settings, ctx),
};

registerEncoder(haproxyEncoder);
