import type { IncomingMessage } from 'node:http';
import type { HeaderMap } from '../core/entry.js';
import { hasOwn, setOwn } from '../core/own-key.js';
import { REPLAY_OF_HEADER } from '../core/replay-of.js';

/** Headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1), plus those kflog sets itself. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

const canonicalCache = new Map<string, string>();

/** Go's CanonicalMIMEHeaderKey, as Caddy logs header names ("user-agent" → "User-Agent"). */
export function canonicalName(name: string): string {
  let c = canonicalCache.get(name);
  if (c !== undefined) return c;
  c = name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  if (canonicalCache.size < 4096) canonicalCache.set(name, c);
  return c;
}

/** rawHeaders ([name, value, …]) → the header map the log shows, names canonical, repeated values kept in order. */
export function headerMap(raw: readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = canonicalName(raw[i]!);
    const list = out[name];
    if (list !== undefined && hasOwn(out, name)) list.push(raw[i + 1]!);
    else setOwn(out, name, [raw[i + 1]!]);
  }
  return out;
}

/** Names listed in Connection are hop-by-hop too. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const name = t.trim().toLowerCase();
        if (name) (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/** Flat [name, value, …] without hop-by-hop headers (and without `drop`), ready for undici or writeHead. */
export function forwardableHeaders(raw: readonly string[], drop?: ReadonlySet<string>): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower) || drop?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** undici hands raw response headers as Buffers. */
export function rawHeaderStrings(raw: Buffer[] | string[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    out[i] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}

/**
 * Headers kflog sets itself on the way up (the client's copies are replaced; X-Forwarded-For is appended to), or
 * takes off.
 */
const SET_BY_PROXY: ReadonlySet<string> = new Set([
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'host',
  // node answers `Expect: 100-continue` itself before the request reaches kflog; undici refuses to send it on.
  'expect',
  // Addressed to kflog (the request replays a trace), never to the upstream, well-formed or not.
  REPLAY_OF_HEADER,
]);

/**
 * The request headers sent upstream: the client's, minus hop-by-hop ones, plus X-Forwarded-For/-Proto/-Host and
 * the Host the target wants (`hostHeader`, or the client's own when undefined, as a port-forward does).
 */
export function upstreamHeaders(req: IncomingMessage, hostHeader: string | undefined): string[] {
  const headers = forwardableHeaders(req.rawHeaders, SET_BY_PROXY);
  const remote = stripV4Mapped(req.socket.remoteAddress ?? '');
  const xff = req.headers['x-forwarded-for'];
  headers.push('x-forwarded-for', xff ? xff + ', ' + remote : remote);
  // A TLS listener's socket is a TLSSocket (`encrypted`): the client used https, as Caddy tells its upstreams.
  headers.push('x-forwarded-proto', (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http');
  if (req.headers.host !== undefined) headers.push('x-forwarded-host', req.headers.host);
  const host = hostHeader ?? req.headers.host;
  if (host !== undefined) headers.push('host', host);
  return headers;
}

export function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * The request-target as sent upstream, in origin form: an absolute-form target (`GET http://host/p`) becomes its
 * path and query, as nginx forwards it, since the upstream is the forward's target, not the host the client named.
 */
export function originForm(target: string | undefined): string {
  if (target === undefined || target === '') return '/';
  const m = ABSOLUTE_FORM.exec(target);
  if (m === null) return target;
  const rest = target.slice(m[0].length);
  return rest.startsWith('/') ? rest : '/' + rest;
}
