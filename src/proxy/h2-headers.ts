import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { RequestInfo, TlsInfo } from '../core/entry.js';
import { REPLAY_OF_HEADER, replayOf } from '../core/replay-of.js';
import { forwardableHeaders, headerMap, stripV4Mapped } from './headers.js';

/** What an HTTP/2 request head is made of, as node hands it over with a stream. */
export interface H2RequestHead {
  /** Pseudo-headers and headers, names lower-case (node's parsed form). */
  readonly headers: IncomingHttpHeaders;
  /** [name, value, …] as received, pseudo-headers first. */
  readonly rawHeaders: readonly string[];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The client's TLS (a TLS listener's stream), undefined in cleartext. */
  readonly tls?: TlsInfo | undefined;
}

export function pseudo(headers: IncomingHttpHeaders, name: ':method' | ':path' | ':authority' | ':scheme'): string {
  const v = headers[name];
  return typeof v === 'string' ? v : '';
}

/** The Host of an HTTP/2 request: `:authority`, or a Host header a client sent instead (RFC 9113 §8.3.1). */
export function h2Host(headers: IncomingHttpHeaders): string {
  return pseudo(headers, ':authority') || (headers.host ?? '');
}

/** The raw headers without pseudo-headers: what the log shows and what is forwarded. */
function regularHeaders(raw: readonly string[]): string[] {
  let i = 0;
  while (i < raw.length && raw[i]!.startsWith(':')) i += 2;
  return i === 0 ? raw.slice() : raw.slice(i);
}

/** An HTTP/2 request as logged: the pseudo-headers become host, uri and method, and proto is HTTP/2.0. */
export function h2RequestInfo(head: H2RequestHead): RequestInfo {
  const h = head.headers;
  const info: RequestInfo = {
    remote_ip: stripV4Mapped(head.remoteAddress ?? ''),
    remote_port: String(head.remotePort ?? ''),
    proto: 'HTTP/2.0',
    method: pseudo(h, ':method'),
    host: h2Host(h),
    uri: pseudo(h, ':path'),
    headers: headerMap(regularHeaders(head.rawHeaders)),
  };
  const replayed = replayOf(h[REPLAY_OF_HEADER] as string | undefined);
  if (replayed !== undefined) info.replay_of = replayed;
  if (head.tls !== undefined) info.tls = head.tls;
  return info;
}

/** Set by kflog on the way up, or addressed to kflog: the client's copies are not forwarded. */
const SET_BY_PROXY: ReadonlySet<string> = new Set([
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'host', 'expect', 'cookie', REPLAY_OF_HEADER,
]);

/**
 * The headers sent upstream for an HTTP/2 request: the client's, minus pseudo-headers and connection-specific
 * ones, with X-Forwarded-* and the Host the target wants (its own, or the client's `:authority`). An HTTP/2 client
 * may split Cookie into several fields (RFC 9113 §8.2.3); they are joined again with "; ", as HTTP/1.1 needs them.
 * `te: trailers`, the one TE value HTTP/2 allows, goes on to an HTTP/2 upstream: gRPC servers require it.
 */
export function h2UpstreamHeaders(head: H2RequestHead, hostHeader: string | undefined, upstreamH2: boolean): string[] {
  const h = head.headers;
  const out = forwardableHeaders(regularHeaders(head.rawHeaders), SET_BY_PROXY);
  const cookie = h.cookie;
  if (cookie !== undefined) out.push('cookie', cookie);
  if (upstreamH2 && h.te === 'trailers') out.push('te', 'trailers');
  const remote = stripV4Mapped(head.remoteAddress ?? '');
  const xff = h['x-forwarded-for'];
  out.push('x-forwarded-for', xff ? xff + ', ' + remote : remote);
  // The scheme the client used with kflog: https for a stream of a TLS listener, as Caddy sets it.
  out.push('x-forwarded-proto', head.tls !== undefined ? 'https' : 'http');
  const authority = h2Host(h);
  if (authority !== '') out.push('x-forwarded-host', authority);
  const host = hostHeader ?? authority;
  if (host !== '') out.push('host', host);
  return out;
}

/**
 * An upstream's response headers (or trailers) as HTTP/2 fields: connection-specific ones dropped (node refuses
 * them, RFC 9113 §8.2.2), repeated ones kept as a list, names lower-case as HTTP/2 requires.
 */
export function h2Fields(raw: readonly string[], out: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  const fields = forwardableHeaders(raw);
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    if (name.startsWith(':')) continue;
    const value = fields[i + 1]!;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}

/** undici's trailers: raw [name, value, …] from HTTP/1.1, an object of fields from HTTP/2. */
export function trailerStrings(trailers: unknown): string[] {
  if (trailers === null || trailers === undefined) return [];
  if (Array.isArray(trailers)) return trailers.map((v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v)));
  const out: string[] = [];
  for (const [name, value] of Object.entries(trailers as Record<string, unknown>)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, String(v));
    else if (value !== undefined) out.push(name, String(value));
  }
  return out;
}
