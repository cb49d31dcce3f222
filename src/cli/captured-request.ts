import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { CapturedBody } from '../core/entry.js';
import { REPLAY_OF_HEADER } from '../core/replay-of.js';
import { displayWire } from '../encoders/escape.js';
import { isCredentialHeader, REDACTED } from '../encoders/redact.js';
import { entriesOf, type ExchangeRow } from './store-read.js';

/**
 * A stored request as `kflog replay` and `kflog show --curl` send it again: the headers to send as captured, which
 * credentials the store only has redacted, and the body's bytes, or why they are not the request's whole body.
 */
export interface CapturedRequest {
  traceId: string;
  method: string;
  /** As the client sent it: origin form (/path?query), or absolute form. */
  uri: string;
  /** Name and value, in the captured order, repeated names repeated; see LEFT_OUT for what is not among them. */
  headers: Array<[string, string]>;
  /** Credential headers the store holds only as REDACTED: left out unless supplied. */
  redacted: string[];
  /** The body to send; undefined for none. */
  body: Buffer | undefined;
  /** Why `body` is not the body the client sent (truncated, not captured); undefined when it is. */
  incomplete: string | undefined;
  /** A note on how the body is sent, when not byte for byte as captured (re-compressed). */
  bodyNote: string | undefined;
}

/**
 * Headers a sender computes itself (Content-Length, Transfer-Encoding from the body it sends), hop-by-hop ones
 * (RFC 9110 §7.6.1), Expect (node answered it before kflog saw the request) and kflog's own replay marker, which
 * the replay sets anew.
 */
const LEFT_OUT = new Set([
  'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade',
  'expect', REPLAY_OF_HEADER,
]);

const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: (d) => gzipSync(d),
  'x-gzip': (d) => gzipSync(d),
  br: (d) => brotliCompressSync(d),
  deflate: (d) => deflateSync(d),
};

function plural(n: number): string {
  return n === 1 ? '1 byte' : n + ' bytes';
}

/** The kept bytes of a body, encoded again when the proxy decoded them for the log. */
function bodyBytes(body: CapturedBody): { bytes: Buffer; note: string | undefined } {
  const kept = body.text !== undefined ? Buffer.from(body.text, 'utf8') : Buffer.from(body.base64 ?? '', 'base64');
  const coding = body.decoded_from;
  if (coding === undefined || ENCODERS[coding] === undefined) return { bytes: kept, note: undefined };
  return {
    bytes: ENCODERS[coding](kept),
    note: `the body was stored ${coding}-decoded: it is sent ${coding}-encoded again (the same content, not the same bytes)`,
  };
}

/** Names listed in Connection are hop-by-hop too. */
function connectionTokens(headers: Record<string, string[]>): Set<string> {
  const out = new Set<string>();
  for (const name in headers) {
    if (name.toLowerCase() !== 'connection') continue;
    for (const v of headers[name]!) for (const t of v.split(',')) if (t.trim() !== '') out.add(t.trim().toLowerCase());
  }
  return out;
}

export function capturedRequest(row: ExchangeRow): CapturedRequest {
  const { request: entry, access } = entriesOf(row);
  const request = entry.request;
  if (request.raw_line !== undefined) {
    throw new CapturedRequestError(`trace ${row.trace_id} was a malformed request ("${displayWire(request.raw_line)}"): there is no request to send again`);
  }
  const hopByHop = connectionTokens(request.headers);
  const headers: Array<[string, string]> = [];
  const redacted: string[] = [];
  for (const name in request.headers) {
    const lower = name.toLowerCase();
    if (LEFT_OUT.has(lower) || hopByHop.has(lower)) continue;
    const values = request.headers[name]!;
    if (isCredentialHeader(name) && values.every((v) => v === REDACTED)) {
      redacted.push(name);
      continue;
    }
    for (const v of values) headers.push([name, v]);
  }
  const out: CapturedRequest = {
    traceId: row.trace_id,
    method: request.method,
    uri: request.uri,
    headers,
    redacted,
    body: undefined,
    incomplete: undefined,
    bodyNote: undefined,
  };
  const body = request.body;
  if (body === undefined) {
    const announced = Object.keys(request.headers).some((n) => {
      const l = n.toLowerCase();
      return l === 'transfer-encoding' || (l === 'content-length' && request.headers[n]!.some((v) => v.trim() !== '0'));
    });
    const read = access?.bytes_read ?? 0;
    if (read > 0 || (access === undefined && announced)) {
      out.incomplete = `its body was not captured (${read > 0 ? plural(read) : 'its size unknown'}; the forward's capture.request_body is off)`;
    }
    return out;
  }
  const { bytes, note } = bodyBytes(body);
  out.body = bytes;
  out.bodyNote = note;
  if (body.truncated) {
    const kept = body.text !== undefined ? Buffer.byteLength(body.text) : Buffer.from(body.base64 ?? '', 'base64').length;
    out.incomplete = `its body was truncated by max_body_bytes (${plural(kept)}${body.decoded_from ? ' decoded from ' + body.decoded_from : ''} of ${plural(body.bytes)} captured)`;
  }
  return out;
}

/** A stored exchange that holds no request to send (a malformed one): one line, exit 1. */
export class CapturedRequestError extends Error {
  override name = 'CapturedRequestError';
}
