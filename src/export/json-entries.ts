import { Ajv, type ValidateFunction } from 'ajv';
import type { AccessEntry, CapturedBody, Entry, HeaderMap, ProcessEntry, RequestEntry, RequestInfo } from '../core/entry.js';
import { setOwn } from '../core/own-key.js';
import { ACCESS_LINE, PROCESS_LINE, REQUEST_LINE } from './json-line-schema.js';

/**
 * The json format read back: a line as the entry it was written from, so any other format can be written from a
 * JSON log later (`kflog convert`). The inverse of src/encoders/json.ts with its default settings: encoding the
 * entry again gives the line again, byte for byte.
 */

type Line<E extends Entry> = Omit<E, 'kind'>;

let validators: { request: ValidateFunction<Line<RequestEntry>>; access: ValidateFunction<Line<AccessEntry>>; process: ValidateFunction<Line<ProcessEntry>> } | undefined;

/** Compiled on first use: `kflog ls` and `kflog run` never pay for it. */
function lineValidators(): NonNullable<typeof validators> {
  if (validators === undefined) {
    const ajv = new Ajv({ strict: true, allErrors: false });
    validators = { request: ajv.compile(REQUEST_LINE), access: ajv.compile(ACCESS_LINE), process: ajv.compile(PROCESS_LINE) };
  }
  return validators;
}

/**
 * An epoch time as the entry holds it (ms) from the line's number: seconds by default (Caddy's), milliseconds from
 * time_format unix_milli_float, nanoseconds from unix_nano. Their sizes never overlap for a date after 1973 and
 * before 5138, so the size tells them apart.
 */
function epochMs(t: number): number {
  if (Math.abs(t) < 1e11) return t * 1000;
  if (Math.abs(t) < 1e14) return t;
  return t / 1e6;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A wire string (one char per byte, as node decodes a request) from the UTF-8 text the json format wrote for it:
 * the bytes the client sent when they were UTF-8. Other bytes were written as U+FFFD, and come back as its bytes.
 */
function wire(text: string): string {
  return PRINTABLE_ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

function wireHeaders(h: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const name in h) setOwn(out, wire(name), h[name]!.map(wire));
  return out;
}

function wireBody(b: CapturedBody): CapturedBody {
  return b.content_type === undefined ? b : { ...b, content_type: wire(b.content_type) };
}

/** Spread first: a field this parser does not rename (a newer kflog's, as text) stays as written. */
function wireRequest(r: RequestInfo): RequestInfo {
  const out: RequestInfo = { ...r, proto: wire(r.proto), method: wire(r.method), host: wire(r.host), uri: wire(r.uri), headers: wireHeaders(r.headers) };
  if (r.body !== undefined) out.body = wireBody(r.body);
  if (r.raw_line !== undefined) out.raw_line = wire(r.raw_line);
  return out;
}

function processEntry(line: Line<ProcessEntry> & Record<string, unknown>): ProcessEntry {
  const { level, ts, logger, msg, ...fields } = line;
  return { kind: 'process', level, ts: epochMs(ts), logger, msg, fields };
}

/** The entry a line of a kflog JSON log was written from, or undefined when the line is not one. */
export function entryOfJsonLine(text: string): Entry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = lineValidators();
  if (v.access(value)) {
    const entry: AccessEntry = {
      ...value,
      kind: 'access',
      ts: epochMs(value.ts),
      start: epochMs(value.start),
      request: wireRequest(value.request),
      user_id: wire(value.user_id),
      resp_headers: wireHeaders(value.resp_headers),
    };
    if (value.resp_body !== undefined) entry.resp_body = wireBody(value.resp_body);
    return entry;
  }
  if (v.request(value)) return { ...value, kind: 'request', ts: epochMs(value.ts), request: wireRequest(value.request) };
  if (v.process(value)) return processEntry(value as Line<ProcessEntry> & Record<string, unknown>);
  return undefined;
}
