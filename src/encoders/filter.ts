import { createHash } from 'node:crypto';
import type { AccessEntry, CapturedBody, Entry, HeaderMap, RequestEntry } from '../core/entry.js';
import { hasOwn, setOwn } from '../core/own-key.js';
import { OptionError } from '../core/module-options.js';
import type { Encoder, EncoderModule, EncoderOptions } from './encoder.js';
import { maskAddresses } from './ip-mask.js';
import type { LineParts } from './pieces.js';
import { createPlannedEncoder, encoderPlan, registerEncoder, type EncoderPlan } from './registry.js';

/**
 * Caddy's filter encoder: wraps any encoder and rewrites fields first, addressed like `request>headers>Authorization`
 * (header names in any case). Filters: delete, replace, hash, ip_mask, query, cookie, regexp — Caddy's semantics,
 * with two deliberate differences: query keeps the parameters' order (Caddy re-sorts them), and header values stay
 * lists so every format reads them alike. The entry is copied along the rewritten paths only; the original, shared
 * with other logs, is never touched. Credential redaction still happens after filtering, in the wrapped encoder.
 */

type Action = { type: 'replace' | 'hash' | 'delete'; name: string; value: string };

export interface FieldFilterOptions {
  filter: string;
  value?: string;
  ipv4_cidr?: number;
  ipv6_cidr?: number;
  actions?: Array<{ type: string; parameter?: string; name?: string; value?: string }>;
  regexp?: string;
}

const DELETE = Symbol('delete');
type Rewrite = (value: unknown, key: string) => unknown;

// ---------------------------------------------------------------------------------------------------------------
// What the paths may address: the entry's shape. A path outside it addresses a process entry's own fields.

type Shape = 'string' | 'number' | 'boolean' | 'headers' | { [key: string]: Shape };

/**
 * The Shape of a type, key for key: the table below must name every field of the entry types, optional ones
 * included, and nothing else, so a field added to entry.ts fails to compile here until the filter knows it.
 */
type ShapeOf<T> =
  T extends string ? 'string'
  : T extends number ? 'number'
  : T extends boolean ? 'boolean'
  : T extends HeaderMap ? 'headers'
  : { [K in keyof T]-?: ShapeOf<NonNullable<T[K]>> };

/** Every field a request entry has, an access entry has too: the access entry's shape covers both. */
type RequestOnlyFields = Exclude<keyof RequestEntry, keyof AccessEntry>;
const requestFieldsCovered: [RequestOnlyFields] extends [never] ? true : RequestOnlyFields = true;
void requestFieldsCovered;

const BODY: ShapeOf<CapturedBody> = { bytes: 'number', text: 'string', base64: 'string', truncated: 'boolean', content_type: 'string', decoded_from: 'string' };
const ENTRY: ShapeOf<Omit<AccessEntry, 'kind'>> = {
  level: 'string',
  ts: 'number',
  logger: 'string',
  msg: 'string',
  trace_id: 'string',
  request: {
    remote_ip: 'string',
    remote_port: 'string',
    proto: 'string',
    method: 'string',
    host: 'string',
    uri: 'string',
    headers: 'headers',
    body: BODY,
    raw_line: 'string',
    replay_of: 'string',
    tls: {
      resumed: 'boolean', version: 'number', cipher_suite: 'number', proto: 'string', server_name: 'string',
      client_common_name: 'string', client_serial: 'string',
    },
  },
  bytes_read: 'number',
  user_id: 'string',
  duration: 'number',
  size: 'number',
  status: 'number',
  resp_headers: 'headers',
  resp_body: BODY,
  forward: { id: 'string', listen_port: 'number', backend: 'string' },
  upstream: { address: 'string', pod: 'string', tls_insecure: 'boolean', proto: 'string' },
  timings: { tq: 'number', tw: 'number', tc: 'number', tr: 'number', tt: 'number' },
  termination_state: 'string',
  conn: { actconn: 'number', feconn: 'number', beconn: 'number', srv_conn: 'number', retries: 'number' },
  start: 'number',
  bytes_sent: 'number',
  error: 'string',
  tunnel: { bytes_in: 'number', bytes_out: 'number' },
};
const PROCESS_TOP = new Set(['level', 'ts', 'logger', 'msg']);

/** The shape at a path: a Shape, 'header' for one header's values, or undefined for a process field. */
function shapeAt(segments: string[], path: string): Shape | 'header' | undefined {
  let shape: Shape = ENTRY;
  for (let i = 0; i < segments.length; i++) {
    if (shape === 'headers') {
      if (i !== segments.length - 1) throw new Error(`filter field "${path}": a header's values have no sub-fields`);
      return 'header';
    }
    if (typeof shape === 'string') throw new Error(`filter field "${path}": "${segments[i - 1]}" has no sub-fields`);
    const next: Shape | undefined = shape[segments[i]!];
    if (next === undefined) {
      if (i === 0) return undefined; // a process entry's own field
      throw new Error(`filter field "${path}": unknown field "${segments[i]}" (known: ${Object.keys(shape).join(', ')})`);
    }
    shape = next;
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------------------------
// The filters

function hash(s: string): string {
  let wide = false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) wide = true;
  // Wire strings are one char per byte: hash the bytes the client sent, as Caddy does.
  return createHash('sha256').update(Buffer.from(s, wide ? 'utf8' : 'latin1')).digest('hex').slice(0, 8);
}

/** Applies f to a string, or to each string of a list; other values pass through unchanged. */
function eachString(value: unknown, f: (s: string) => string | typeof DELETE): unknown {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) {
    const out: string[] = [];
    let changed = false;
    for (const v of value) {
      if (typeof v !== 'string') return value;
      const r = f(v);
      if (r === DELETE) {
        changed = true;
        continue;
      }
      if (r !== v) changed = true;
      out.push(r);
    }
    return changed ? out : value;
  }
  return value;
}

function actionsOf(opts: FieldFilterOptions, path: string): Action[] {
  const list = opts.actions ?? [];
  return list.map((a) => {
    if (a.type !== 'replace' && a.type !== 'hash' && a.type !== 'delete') throw new Error(`filter field "${path}": unknown action "${a.type}"`);
    const name = a.parameter ?? a.name;
    if (name === undefined) throw new Error(`filter field "${path}": an action needs "parameter"`);
    return { type: a.type, name, value: a.value ?? '' };
  });
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Query actions on a URI (or a bare query string), parameters kept in order. */
export function filterQuery(uri: string, actions: Action[]): string {
  const q = uri.indexOf('?');
  if (q === -1) return uri;
  const hashAt = uri.indexOf('#', q);
  const query = hashAt === -1 ? uri.slice(q + 1) : uri.slice(q + 1, hashAt);
  const out: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = decodeComponent(eq === -1 ? part : part.slice(0, eq));
    let kept: string | undefined = part;
    const rawName = eq === -1 ? part : part.slice(0, eq);
    // Actions apply in order, as Caddy applies them, each to what the previous one left.
    for (const a of actions) {
      if (a.name !== name || kept === undefined) continue;
      if (a.type === 'delete') kept = undefined;
      else if (a.type === 'replace') kept = rawName + '=' + encodeURIComponent(a.value);
      else {
        const at = kept.indexOf('=');
        kept = rawName + '=' + hash(at === -1 ? '' : decodeComponent(kept.slice(at + 1)));
      }
    }
    if (kept !== undefined) out.push(kept);
  }
  return uri.slice(0, q) + (out.length ? '?' + out.join('&') : '') + (hashAt === -1 ? '' : uri.slice(hashAt));
}

/** Cookie actions on one Cookie header value ("a=1; b=2"); the first action naming a cookie wins, as in Caddy. */
export function filterCookieHeader(value: string, actions: Action[]): string {
  const out: string[] = [];
  for (const raw of value.split(';')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const a = actions.find((x) => x.name === name);
    if (a === undefined) out.push(pair);
    else if (a.type === 'replace') out.push(name + '=' + a.value);
    else if (a.type === 'hash') out.push(name + '=' + hash(eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return out.join('; ');
}

/** Cookie actions on one Set-Cookie value ("a=1; Path=/"): the cookie pair changes, its attributes stay. */
function filterSetCookie(value: string, actions: Action[]): string | typeof DELETE {
  const semi = value.indexOf(';');
  const pair = (semi === -1 ? value : value.slice(0, semi)).trim();
  const eq = pair.indexOf('=');
  const name = eq === -1 ? pair : pair.slice(0, eq);
  const a = actions.find((x) => x.name === name);
  if (a === undefined) return value;
  if (a.type === 'delete') return DELETE;
  const v = a.type === 'replace' ? a.value : hash(eq === -1 ? '' : pair.slice(eq + 1));
  return name + '=' + v + (semi === -1 ? '' : value.slice(semi));
}

/** Go (RE2) pattern → JS RegExp: leading (?flags), (?P<name>…), ${name} in the replacement. */
export function goRegexp(pattern: string, replacement: string): { re: RegExp; replacement: string } {
  let flags = 'g';
  let p = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) if (f !== 'U' && !flags.includes(f)) flags += f;
    p = p.slice(lead[0].length);
  }
  p = p.replace(/\(\?P</g, '(?<');
  const rep = replacement.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (m, _all: string, braced?: string, bare?: string) => {
    if (m === '$$') return '$$';
    const name = braced ?? bare ?? '';
    return /^\d+$/.test(name) ? '$' + name : '$<' + name + '>';
  });
  return { re: new RegExp(p, flags), replacement: rep };
}

function compileRewrite(opts: FieldFilterOptions, path: string, leaf: string): Rewrite {
  switch (opts.filter) {
    case 'delete':
      return () => DELETE;
    case 'replace': {
      const value = opts.value ?? '';
      return (v) => {
        if (typeof v === 'number') return Number.isFinite(Number(value)) && value.trim() !== '' ? Number(value) : v;
        if (Array.isArray(v)) return [value];
        return typeof v === 'string' || v === undefined ? value : v;
      };
    }
    case 'hash':
      return (v) => eachString(v, hash);
    case 'ip_mask': {
      // Caddy's ip_mask defaults: a /24 and a /64 keep the network, hide the host.
      const v4 = opts.ipv4_cidr ?? 24;
      const v6 = opts.ipv6_cidr ?? 64;
      return (v) => eachString(v, (s) => maskAddresses(s, v4, v6));
    }
    case 'query': {
      const actions = actionsOf(opts, path);
      return (v) => eachString(v, (s) => filterQuery(s, actions));
    }
    case 'cookie': {
      const actions = actionsOf(opts, path);
      const setCookie = leaf.toLowerCase() === 'set-cookie';
      return (v) => eachString(v, (s) => (setCookie ? filterSetCookie(s, actions) : filterCookieHeader(s, actions)));
    }
    case 'regexp': {
      if (opts.regexp === undefined) throw new Error(`filter field "${path}": regexp needs "regexp"`);
      let compiled: { re: RegExp; replacement: string };
      try {
        compiled = goRegexp(opts.regexp, opts.value ?? '');
      } catch (err) {
        throw new Error(`filter field "${path}": bad regexp: ${(err as Error).message}`);
      }
      const { re, replacement } = compiled;
      return (v) => eachString(v, (s) => s.replace(re, replacement));
    }
    default:
      throw new Error(`filter field "${path}": unknown filter "${opts.filter}"`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

/** The key of obj matching name: exact, else case-insensitive (header names). */
function findKey(obj: Record<string, unknown>, name: string): string | undefined {
  if (hasOwn(obj, name)) return name;
  const lower = name.toLowerCase();
  for (const k in obj) if (k.toLowerCase() === lower) return k;
  return undefined;
}

/** A copy of obj with the value at segments[i…] rewritten, or obj itself when nothing changed. */
function rewriteAt(obj: unknown, segments: string[], i: number, f: Rewrite): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj;
  const rec = obj as Record<string, unknown>;
  const key = findKey(rec, segments[i]!);
  if (key === undefined) return obj;
  const cur = rec[key];
  const next = i === segments.length - 1 ? f(cur, key) : rewriteAt(cur, segments, i + 1, f);
  if (next === cur) return obj;
  const copy: Record<string, unknown> = { ...rec };
  if (next === DELETE) delete copy[key];
  else setOwn(copy, key, next);
  return copy;
}

interface CompiledField {
  /** Path on request/access entries. */
  segments: string[];
  /** Path on process entries: level/ts/logger/msg, or else one of their own fields. */
  processSegments: string[];
  rewrite: Rewrite;
}

function compileField(path: string, opts: FieldFilterOptions): CompiledField {
  if (opts === null || typeof opts !== 'object') throw new Error(`filter field "${path}": expected a filter object`);
  let segments = path.split('>').map((s) => s.trim());
  if (segments.some((s) => s === '')) throw new Error(`filter field "${path}": empty path segment`);
  // Caddy ≥ 2.7 configs name client_ip; kflog's client address is remote_ip.
  if (segments[0] === 'request' && segments[1] === 'client_ip') segments = ['request', 'remote_ip', ...segments.slice(2)];
  const shape = shapeAt(segments, path);
  const kind = opts.filter;
  if (shape !== undefined && kind !== 'delete') {
    if (typeof shape === 'object' || shape === 'headers') throw new Error(`filter field "${path}": "${kind}" applies to values; only "delete" removes a whole object`);
    if ((shape === 'number' || shape === 'boolean') && kind !== 'replace') throw new Error(`filter field "${path}": "${kind}" applies to strings, and this field is a ${shape}`);
  }
  const rewrite = compileRewrite(opts, path, segments[segments.length - 1]!);
  const processSegments = PROCESS_TOP.has(segments[0]!) ? segments : ['fields', ...segments];
  return { segments, processSegments, rewrite };
}

/** A request line as a client may send it: method, URI (which may hold blanks), and an optional protocol. */
const REQUEST_LINE = /^(\S+)( +)(.*?)(?:( +)(HTTP\/\S*))?$/;

/**
 * The raw request line of a malformed request carries the URI too (CLF writes it as `$request`, the others as
 * raw_line), so a filter on request>uri must reach it, or a token hidden from `uri` is shown in the raw line. The
 * URI part gets the same rewrite; a line with no URI part to find, or whose URI the filter deletes, is dropped.
 */
function rawLineRewrite(uriRewrite: Rewrite): Rewrite {
  return (value, key) => {
    if (typeof value !== 'string') return value;
    const m = REQUEST_LINE.exec(value);
    if (m === null) return DELETE;
    const uri = uriRewrite(m[3]!, key);
    if (uri === DELETE || typeof uri !== 'string') return DELETE;
    if (uri === m[3]) return value;
    return m[1]! + m[2]! + uri + (m[5] === undefined ? '' : m[4]! + m[5]);
  };
}

function compileFields(path: string, opts: FieldFilterOptions): CompiledField[] {
  const field = compileField(path, opts);
  const [first, second] = field.segments;
  if (field.segments.length !== 2 || first?.toLowerCase() !== 'request' || second?.toLowerCase() !== 'uri') return [field];
  const rawLine = ['request', 'raw_line'];
  return [field, { segments: rawLine, processSegments: ['fields', ...rawLine], rewrite: rawLineRewrite(field.rewrite) }];
}

export class FilterEncoder implements Encoder {
  constructor(
    private readonly inner: Encoder,
    private readonly fields: readonly CompiledField[],
  ) {}

  entriesIn(entry: Entry): number {
    return this.inner.entriesIn?.(entry) ?? 1;
  }

  encode(entry: Entry): string | Buffer | null {
    return this.inner.encode(this.filtered(entry));
  }

  encodeParts(entry: Entry): string | LineParts | Buffer | null {
    const e = this.filtered(entry);
    return this.inner.encodeParts !== undefined ? this.inner.encodeParts(e) : this.inner.encode(e);
  }

  private filtered(entry: Entry): Entry {
    let e: unknown = entry;
    const process = entry.kind === 'process';
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i]!;
      e = rewriteAt(e, process ? f.processSegments : f.segments, 0, f.rewrite);
    }
    return e as Entry;
  }
}

export interface FilterSettings {
  /** The wrapped encoder, its options already checked. */
  wrap: EncoderPlan;
  fields: CompiledField[];
}

/** Checks the wrapped encoder's options and compiles every field's filter, naming the field a bad one is under. */
function filterSettings(options: EncoderOptions): FilterSettings {
  const wrap = options.wrap as EncoderOptions | undefined;
  if (wrap === undefined || wrap === null || typeof wrap !== 'object' || typeof wrap.format !== 'string') {
    throw new OptionError(['wrap'], 'filter encoder: "wrap" must be an encoder');
  }
  let plan: EncoderPlan;
  try {
    plan = encoderPlan(wrap);
  } catch (err) {
    if (err instanceof OptionError) throw new OptionError(['wrap', ...err.path], err.message);
    throw err;
  }
  const fields = (options.fields ?? {}) as Record<string, FieldFilterOptions>;
  const compiled = Object.entries(fields).flatMap(([path, opts]) => {
    try {
      return compileFields(path, opts);
    } catch (err) {
      throw new OptionError(['fields', path], (err as Error).message);
    }
  });
  return { wrap: plan, fields: compiled };
}

export const filterEncoder: EncoderModule<FilterSettings> = {
  name: 'filter',
  schema: {
    options: {
      required: ['wrap'],
      properties: {
        wrap: { $ref: '#/$defs/encoder', description: 'The encoder whose output is filtered.' },
        fields: {
          type: 'object',
          description: 'Field path ("request>headers>Authorization") → filter.',
          additionalProperties: { $ref: '#/$defs/field_filter' },
        },
      },
    },
    defs: {
      field_filter: {
        type: 'object',
        required: ['filter'],
        description: "One of Caddy's field filters.",
        properties: {
          filter: {
            enum: ['delete', 'replace', 'hash', 'ip_mask', 'query', 'cookie', 'regexp'],
            description: 'The filter: delete the field; replace it with value; hash it (first 8 hex digits of SHA-256); ip_mask the addresses in it; query/cookie actions on named parameters or cookies; regexp replacement.',
          },
          value: { type: 'string', description: 'replace: the replacement.' },
          ipv4_cidr: {
            type: 'integer',
            minimum: 0,
            maximum: 32,
            default: 24,
            description: 'ip_mask: prefix length kept for IPv4. Default 24.',
          },
          ipv6_cidr: {
            type: 'integer',
            minimum: 0,
            maximum: 128,
            default: 64,
            description: 'ip_mask: prefix length kept for IPv6. Default 64.',
          },
          actions: {
            type: 'array',
            description: 'query/cookie: actions on named parameters or cookies.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['type'],
              oneOf: [{ required: ['parameter'] }, { required: ['name'] }],
              properties: {
                type: { enum: ['replace', 'hash', 'delete'], description: 'What to do.' },
                parameter: { type: 'string', description: 'Query parameter or cookie name.' },
                name: {
                  type: 'string',
                  description: "Cookie name (Caddy's spelling for the cookie filter); same as parameter.",
                },
                value: { type: 'string', description: 'replace: the replacement.' },
              },
            },
          },
          regexp: {
            type: 'string',
            description: 'regexp: the pattern (Go/RE2 syntax: a leading (?i) and (?P<name>…) are understood); value is the replacement, $1 or ${name} naming groups.',
          },
        },
        additionalProperties: false,
      },
    },
  },
  defaults: {},
  settings: filterSettings,
  create: (settings, ctx) => new FilterEncoder(createPlannedEncoder(settings.wrap, ctx), settings.fields),
};

registerEncoder(filterEncoder);
