import type { AccessEntry, CapturedBody, Entry, HeaderMap, Level, ProcessEntry, RequestEntry, RequestInfo, TlsInfo } from '../core/entry.js';
import { optionOr, type JsonSchema } from '../core/module-options.js';
import type { Encoder, EncoderContext, EncoderModule, EncoderOptions } from './encoder.js';
import { jsonText, jsonWire, jsonWireName } from './escape.js';
import { Pieces, type LineParts } from './pieces.js';
import { asList } from './headers.js';
import { isCredentialHeader } from './redact.js';
import { registerEncoder } from './registry.js';
import { GoLayout, goDuration } from './time.js';

/** Caddy's named time formats (modules/logging encoder config), as Go layouts where they are layouts. */
const TIME_LAYOUTS: Readonly<Record<string, string>> = {
  iso8601: '2006-01-02T15:04:05.000Z0700', // zap's ISO8601TimeEncoder
  rfc3339: '2006-01-02T15:04:05Z07:00',
  rfc3339_nano: '2006-01-02T15:04:05.999999999Z07:00',
  wall: '2006/01/02 15:04:05',
  wall_milli: '2006/01/02 15:04:05.000',
  wall_nano: '2006/01/02 15:04:05.000000000',
  common_log: '02/Jan/2006:15:04:05 -0700',
};

/** Renders an epoch-ms time as a JSON value (a number or a quoted string). */
type TimeValue = (ms: number) => string;

export function timeValue(format: string, local: boolean): TimeValue {
  switch (format) {
    case '':
    case 'unix_seconds_float':
      return secondsFloat;
    case 'unix_milli_float':
      return (ms) => '' + ms;
    case 'unix_nano':
      // Exact integer text: entry times carry microseconds, beyond a double's integer range once in nanoseconds.
      return (ms) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
    default: {
      const layout = new GoLayout(TIME_LAYOUTS[format] ?? format, local);
      return (ms) => jsonText(layout.format(ms));
    }
  }
}

const ZEROS = '000000000';

/** whole.frac with `digits` fraction digits, trailing zeros trimmed (at least one kept when keepOne). */
function decimal(whole: string, frac: number, digits: number, keepOne: boolean): string {
  if (frac === 0) return keepOne ? whole + '.0' : whole;
  const f = '' + frac;
  let text = ZEROS.slice(0, digits - f.length) + f;
  let end = text.length;
  while (end > 1 && text.charCodeAt(end - 1) === 48) end--;
  if (end !== text.length) text = text.slice(0, end);
  return whole + '.' + text;
}

/** The separator before an object's next member: none right after its '{'. */
function comma(objectSoFar: string): string {
  return objectSoFar.length > 1 ? ',' : '';
}

let cachedSecond = NaN;
let cachedSecondText = '';

/**
 * Epoch seconds with microseconds, from integers (float-to-text conversion is the slowest part of a JSON line).
 * Always with a fraction: GoAccess's CADDY format reads ts as `%x.%^` and rejects a bare integer.
 */
function secondsFloat(ms: number): string {
  if (!(ms >= 0)) return '' + ms / 1000;
  const us = Math.round(ms * 1000);
  const second = Math.floor(us / 1e6);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = '' + second;
  }
  return decimal(cachedSecondText, us - second * 1e6, 6, true);
}

/** Seconds to nanosecond precision, as Caddy prints a Go duration in seconds (0.00140379, not 0.0014037900000000001). */
function durationSeconds(s: number): string {
  if (!(s >= 0) || s > 1e9) return '' + s;
  const ns = Math.round(s * 1e9);
  const whole = Math.floor(ns / 1e9);
  return decimal('' + whole, ns - whole * 1e9, 9, false);
}

function durationMillis(s: number): string {
  if (!(s >= 0) || s > 1e9) return '' + s * 1000;
  const ns = Math.round(s * 1e9);
  const whole = Math.floor(ns / 1e6);
  return decimal('' + whole, ns - whole * 1e6, 6, false);
}

/** Renders a duration in seconds as a JSON value. */
type DurationValue = (seconds: number) => string;

export function durationValue(format: string): DurationValue {
  switch (format) {
    case 'ms':
    case 'milli':
    case 'millis':
      return durationMillis;
    case 'ns':
    case 'nano':
    case 'nanos':
      return (s) => '' + Math.round(s * 1e9);
    case 'string':
      return (s) => '"' + goDuration(s * 1e9) + '"';
    default:
      return durationSeconds;
  }
}

/** zap's level encoders: lower, CAPITAL, and CAPITAL in ANSI colours. */
const LEVEL_COLORS: Readonly<Record<Level, number>> = { debug: 35, info: 34, warn: 33, error: 31 };

function levelText(level: Level, format: string): string {
  if (format === 'upper') return level.toUpperCase();
  if (format === 'color') return '\x1b[' + LEVEL_COLORS[level] + 'm' + level.toUpperCase() + '\x1b[0m';
  return level;
}

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** zap's duration encoders, by the names Caddy accepts for them. */
const DURATION_FORMATS = ['s', 'seconds', 'ms', 'milli', 'millis', 'ns', 'nano', 'nanos', 'string'] as const;
const LEVEL_FORMATS = ['lower', 'upper', 'color'] as const;
const BODY_FORMATS = ['text', 'base64'] as const;

/** The json encoder's options, every one present: the config's, else its default. */
export interface JsonSettings {
  message_key: string;
  level_key: string;
  time_key: string;
  name_key: string;
  time_format: string;
  time_local: boolean;
  duration_format: (typeof DURATION_FORMATS)[number];
  level_format: (typeof LEVEL_FORMATS)[number];
  body_format: (typeof BODY_FORMATS)[number];
}

const JSON_DEFAULTS: Readonly<JsonSettings> = {
  // Caddy's (zap's production encoder config) keys, so Caddy's readers (GoAccess's CADDY format) read kflog's lines.
  message_key: 'msg',
  level_key: 'level',
  time_key: 'ts',
  name_key: 'logger',
  // Caddy's default: float epoch seconds, which GoAccess's CADDY format expects.
  time_format: 'unix_seconds_float',
  // UTC, as Caddy: a log read on another machine means the same instant.
  time_local: false,
  // Caddy writes durations as float seconds.
  duration_format: 's',
  // zap's lowercase level encoder, as Caddy.
  level_format: 'lower',
  // A UTF-8 body reads as itself; one that is not cannot be text in JSON and is base64 regardless.
  body_format: 'text',
};

function jsonSettings(options: EncoderOptions): JsonSettings {
  const d = JSON_DEFAULTS;
  return {
    message_key: optionOr(options, 'message_key', d.message_key),
    level_key: optionOr(options, 'level_key', d.level_key),
    time_key: optionOr(options, 'time_key', d.time_key),
    name_key: optionOr(options, 'name_key', d.name_key),
    time_format: optionOr(options, 'time_format', d.time_format),
    time_local: optionOr(options, 'time_local', d.time_local),
    duration_format: optionOr(options, 'duration_format', d.duration_format, DURATION_FORMATS),
    level_format: optionOr(options, 'level_format', d.level_format, LEVEL_FORMATS),
    body_format: optionOr(options, 'body_format', d.body_format, BODY_FORMATS),
  };
}

/**
 * Caddy's JSON access log: one object per line, Caddy's keys in Caddy's order (level, ts, logger, msg, request,
 * bytes_read, user_id, duration, size, status, resp_headers), then kflog's own (resp_body, trace_id, forward,
 * upstream, timings, termination_state, conn, error, tunnel). Built by hand, string by string: no JSON.stringify
 * of whole objects on the hot path.
 */
export class JsonEncoder implements Encoder {
  /** `"level":"info"` (or the renamed key; '' when removed) per level. */
  private readonly levelField: Record<Level, string>;
  /** `"level":` for a level the table lacks (a filter may rewrite the level). */
  private readonly levelKey: string;
  private readonly timeKey: string;
  private readonly nameKey: string;
  private readonly messageKey: string;
  private readonly time: TimeValue;
  private readonly duration: DurationValue;
  private readonly base64Bodies: boolean;
  private readonly pieces = new Pieces();

  constructor(
    settings: JsonSettings,
    private readonly ctx: EncoderContext,
  ) {
    const levelKey = settings.level_key;
    this.levelKey = levelKey === '' ? '' : jsonText(levelKey) + ':';
    const levelField = {} as Record<Level, string>;
    for (const l of LEVELS) levelField[l] = levelKey === '' ? '' : jsonText(levelKey) + ':' + jsonText(levelText(l, settings.level_format));
    this.levelField = levelField;
    const key = (k: string): string => (k === '' ? '' : jsonText(k) + ':');
    this.timeKey = key(settings.time_key);
    this.nameKey = key(settings.name_key);
    this.messageKey = key(settings.message_key);
    this.time = timeValue(settings.time_format, settings.time_local);
    this.duration = durationValue(settings.duration_format);
    this.base64Bodies = settings.body_format === 'base64';
  }

  encode(entry: Entry): string {
    return this.pieces.joined(this.line(entry));
  }

  encodeParts(entry: Entry): string | LineParts {
    return this.pieces.take(this.line(entry));
  }

  // Objects are built as '{' + first + ',' + next…: never by slicing a leading comma off, which would flatten the
  // (rope) string built so far into a copy; comma() asks the rope's length, which costs nothing. Bodies go in as
  // pieces (pieces.ts), left out of the rope.
  private line(entry: Entry): string {
    const level = this.levelField[entry.level] ?? (this.levelKey === '' || entry.level === undefined ? '' : this.levelKey + jsonText(String(entry.level)));
    let s = '{' + level;
    if (this.timeKey !== '' && entry.ts !== undefined) s += comma(s) + this.timeKey + this.time(entry.ts);
    if (this.nameKey !== '' && entry.logger !== undefined) s += comma(s) + this.nameKey + jsonText(entry.logger);
    if (this.messageKey !== '' && entry.msg !== undefined) s += comma(s) + this.messageKey + jsonText(entry.msg);
    // The rest comes as ",key:value" pieces.
    const rest = entry.kind === 'access' ? this.access(entry) : entry.kind === 'request' ? this.requestEntry(entry) : processFields(entry);
    if (rest !== '') s += s.length > 1 ? rest : rest.slice(1);
    return s + '}\n';
  }

  private requestEntry(e: RequestEntry): string {
    let s = '';
    if (e.request !== undefined) s += ',"request":' + this.request(e.request);
    if (e.trace_id !== undefined) s += ',"trace_id":' + jsonText(e.trace_id);
    if (e.forward !== undefined) s += ',"forward":' + forward(e);
    return s;
  }

  private access(e: AccessEntry): string {
    let s = '';
    if (e.request !== undefined) s += ',"request":' + this.request(e.request);
    if (e.bytes_read !== undefined) s += ',"bytes_read":' + e.bytes_read;
    if (e.user_id !== undefined) s += ',"user_id":' + jsonWire(e.user_id);
    if (e.duration !== undefined) s += ',"duration":' + this.duration(e.duration);
    if (e.size !== undefined) s += ',"size":' + e.size;
    if (e.status !== undefined) s += ',"status":' + e.status;
    if (e.resp_headers !== undefined) s += ',"resp_headers":' + this.headers(e.resp_headers);
    if (e.resp_body !== undefined) s += ',"resp_body":' + this.body(e.resp_body);
    if (e.trace_id !== undefined) s += ',"trace_id":' + jsonText(e.trace_id);
    if (e.forward !== undefined) s += ',"forward":' + forward(e);
    const up = e.upstream;
    if (up !== undefined) {
      s += ',"upstream":{"address":' + jsonText(up.address ?? '');
      if (up.pod !== undefined) s += ',"pod":' + jsonText(up.pod);
      if (up.tls_insecure === true) s += ',"tls_insecure":true';
      if (up.proto !== undefined) s += ',"proto":' + jsonText(up.proto);
      s += '}';
    }
    const t = e.timings;
    if (t !== undefined) s += ',"timings":{"tq":' + t.tq + ',"tw":' + t.tw + ',"tc":' + t.tc + ',"tr":' + t.tr + ',"tt":' + t.tt + '}';
    if (e.termination_state !== undefined) s += ',"termination_state":' + jsonText(e.termination_state);
    const c = e.conn;
    if (c !== undefined) {
      s += ',"conn":{"actconn":' + c.actconn + ',"feconn":' + c.feconn + ',"beconn":' + c.beconn + ',"srv_conn":' + c.srv_conn + ',"retries":' + c.retries + '}';
    }
    if (e.start !== undefined) s += ',"start":' + this.time(e.start);
    if (e.bytes_sent !== undefined) s += ',"bytes_sent":' + e.bytes_sent;
    if (e.error !== undefined) s += ',"error":' + jsonText(e.error);
    if (e.tunnel !== undefined) s += ',"tunnel":{"bytes_in":' + e.tunnel.bytes_in + ',"bytes_out":' + e.tunnel.bytes_out + '}';
    return s;
  }

  /**
   * Caddy's request object (remote_ip, remote_port, proto, method, host, uri, headers, as Caddy 2.6 and GoAccess 1.7
   * have it; Caddy ≥ 2.7 adds client_ip, which kflog leaves out as docs/formats.md lists), tls where Caddy puts it,
   * then body, raw_line and replay_of.
   */
  private request(r: RequestInfo): string {
    // remote_ip is there unless a filter deleted it; the commas only matter then.
    let s = r.remote_ip !== undefined ? '{"remote_ip":' + jsonText(r.remote_ip) : '{';
    if (r.remote_port !== undefined) s += comma(s) + '"remote_port":' + jsonText(r.remote_port);
    if (r.proto !== undefined) s += comma(s) + '"proto":' + jsonWire(r.proto);
    if (r.method !== undefined) s += comma(s) + '"method":' + jsonWire(r.method);
    if (r.host !== undefined) s += comma(s) + '"host":' + jsonWire(r.host);
    if (r.uri !== undefined) s += comma(s) + '"uri":' + jsonWire(r.uri);
    if (r.headers !== undefined) s += comma(s) + '"headers":' + this.headers(r.headers);
    if (r.tls !== undefined) s += comma(s) + '"tls":' + tls(r.tls);
    if (r.body !== undefined) s += comma(s) + '"body":' + this.body(r.body);
    if (r.raw_line !== undefined) s += comma(s) + '"raw_line":' + jsonWire(r.raw_line);
    if (r.replay_of !== undefined) s += comma(s) + '"replay_of":' + jsonText(r.replay_of);
    return s + '}';
  }

  private headers(h: HeaderMap): string {
    let s = '{';
    let c = '';
    for (const name in h) {
      s += c + jsonWireName(name) + ':';
      c = ',';
      if (!this.ctx.logCredentials && isCredentialHeader(name)) {
        s += '["REDACTED"]';
        continue;
      }
      const values = asList(h[name]);
      if (values.length === 1) {
        s += '[' + jsonWire(values[0]!) + ']';
        continue;
      }
      s += '[';
      for (let i = 0; i < values.length; i++) s += (i === 0 ? '' : ',') + jsonWire(values[i]!);
      s += ']';
    }
    return s + '}';
  }

  private body(b: CapturedBody): string {
    let s = '{"bytes":' + b.bytes;
    if (b.text !== undefined) {
      s += this.base64Bodies ? ',"base64":"' + this.pieces.keep(Buffer.from(b.text, 'utf8').toString('base64')) + '"' : ',"text":' + this.pieces.keep(jsonText(b.text));
    } else if (b.base64 !== undefined) {
      s += ',"base64":' + this.pieces.keep(jsonText(b.base64));
    }
    s += ',"truncated":' + (b.truncated === true);
    if (b.content_type !== undefined) s += ',"content_type":' + jsonWire(b.content_type);
    if (b.decoded_from !== undefined) s += ',"decoded_from":' + jsonText(b.decoded_from);
    return s + '}';
  }
}

function forward(e: AccessEntry | RequestEntry): string {
  const f = e.forward;
  return '{"id":' + jsonText(f.id ?? '') + ',"listen_port":' + (f.listen_port ?? 0) + ',"backend":' + jsonText(f.backend ?? '') + '}';
}

function processFields(e: ProcessEntry): string {
  let s = '';
  const fields = e.fields;
  if (fields === undefined || fields === null) return s;
  for (const k in fields) {
    const v = jsonValue(fields[k], 0, undefined);
    if (v !== undefined) s += ',' + jsonText(k) + ':' + v;
  }
  return s;
}

const MAX_DEPTH = 16;

/** Any value a process entry may carry (never throws: cycles, BigInt, errors, dates and NaN all become text). */
export function jsonValue(v: unknown, depth: number, seen: Set<object> | undefined): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonText(v);
    case 'number':
      return Number.isFinite(v) ? '' + v : jsonText('' + v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v === null) return 'null';
      if (v instanceof Error) return jsonText(v.message);
      if (v instanceof Date) return jsonText(Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString());
      if (Buffer.isBuffer(v)) return jsonText(v.toString('base64'));
      if (depth >= MAX_DEPTH) return '"[too deep]"';
      seen ??= new Set();
      if (seen.has(v)) return '"[circular]"';
      seen.add(v);
      let out: string;
      try {
        if (Array.isArray(v)) {
          out = '[';
          for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + (jsonValue(v[i], depth + 1, seen) ?? 'null');
          out += ']';
        } else if (v instanceof Map) {
          out = '';
          for (const [k, val] of v) {
            const j = jsonValue(val, depth + 1, seen);
            if (j !== undefined) out += ',' + jsonText(String(k)) + ':' + j;
          }
          out = out === '' ? '{}' : '{' + out.substring(1) + '}';
        } else {
          const withToJSON = v as { toJSON?: () => unknown };
          if (typeof withToJSON.toJSON === 'function') return jsonValue(withToJSON.toJSON(), depth + 1, seen);
          out = '';
          for (const k of Object.keys(v)) {
            const j = jsonValue((v as Record<string, unknown>)[k], depth + 1, seen);
            if (j !== undefined) out += ',' + jsonText(k) + ':' + j;
          }
          out = out === '' ? '{}' : '{' + out.substring(1) + '}';
        }
      } catch (err) {
        out = jsonText('[unserialisable: ' + (err instanceof Error ? err.message : String(err)) + ']');
      } finally {
        seen.delete(v);
      }
      return out;
    }
    default:
      return undefined; // undefined, functions, symbols: omitted, as JSON.stringify does
  }
}

/** The schema of an option naming the key of one of the entry's head fields. */
function keyOption(field: string, fallback: string): JsonSchema {
  return { type: 'string', description: `Key of the ${field}; "" removes it. Default "${fallback}".` };
}

export const jsonEncoder: EncoderModule<JsonSettings> = {
  name: 'json',
  schema: {
    options: {
      properties: {
        message_key: keyOption('message', 'msg'),
        level_key: keyOption('level', 'level'),
        time_key: keyOption('timestamp', 'ts'),
        name_key: keyOption('logger name', 'logger'),
        time_format: {
          type: 'string',
          description: 'unix_seconds_float, unix_milli_float, unix_nano, iso8601, rfc3339, rfc3339_nano, wall, wall_milli, wall_nano, common_log, or a Go layout. Default "unix_seconds_float".',
        },
        time_local: { type: 'boolean', description: 'Format times in local time instead of UTC. Default false.' },
        duration_format: {
          enum: ['s', 'seconds', 'ms', 'milli', 'millis', 'ns', 'nano', 'nanos', 'string'],
          description: 'duration as float seconds, float milliseconds, integer nanoseconds or a Go duration string ("1.5ms"). Default "s".',
        },
        level_format: {
          enum: ['lower', 'upper', 'color'],
          description: 'Level as "info", "INFO" or coloured. Default "lower".',
        },
        body_format: {
          enum: ['text', 'base64'],
          description: 'Captured bodies as text when they are UTF-8, else base64; or always base64. Default "text".',
        },
      },
    },
  },
  defaults: JSON_DEFAULTS,
  settings: jsonSettings,
  create: (settings, ctx) => new JsonEncoder(settings, ctx),
};

registerEncoder(jsonEncoder);

/** Caddy's request.tls, in its key order (a filter may have deleted any of them). */
function tls(t: Partial<TlsInfo>): string {
  let s = '{';
  if (t.resumed !== undefined) s += '"resumed":' + t.resumed;
  if (t.version !== undefined) s += comma(s) + '"version":' + t.version;
  if (t.cipher_suite !== undefined) s += comma(s) + '"cipher_suite":' + t.cipher_suite;
  if (t.proto !== undefined) s += comma(s) + '"proto":' + jsonText(t.proto);
  if (t.server_name !== undefined) s += comma(s) + '"server_name":' + jsonText(t.server_name);
  if (t.client_common_name !== undefined) s += comma(s) + '"client_common_name":' + jsonText(t.client_common_name);
  if (t.client_serial !== undefined) s += comma(s) + '"client_serial":' + jsonText(t.client_serial);
  return s + '}';
}
