import { STATUS_CODES } from 'node:http';
import type { Content, Cookie, Entry as HarEntry, Header, PostData, QueryString, Request, Response } from 'har-format';
import type { AccessEntry, CapturedBody, HeaderMap, RequestEntry } from '../core/entry.js';
import { asList, firstHeader } from '../encoders/headers.js';
import { isCredentialHeader, REDACTED } from '../encoders/redact.js';
import { wireText } from '../encoders/text.js';
import { harPhases } from './har-timings.js';

/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) from kflog's entries: one HAR entry per exchange, as
 * the client saw it through kflog (the URL it asked kflog for), with kflog's own facts in `_kflog`.
 */

/** One exchange: its access entry, and its request entry when the log or store had it (it gives the start time). */
export interface Exchange {
  request?: RequestEntry;
  access: AccessEntry;
}

export interface HarOptions {
  /** Keep credential headers as the source kept them; otherwise they are REDACTED, as in every format. */
  logCredentials: boolean;
}

/** What kflog knows of an exchange that HAR has no field for. */
export interface KflogFacts {
  trace_id: string;
  forward: string;
  upstream: string;
  pod?: string;
  termination_state: string;
  error?: string;
}

export type KflogHarEntry = HarEntry & { _kflog: KflogFacts };

/** HAR 1.2 has no encoding for postData; Playwright's routeFromHAR reads this one, as it does content's. */
type KflogPostData = PostData & { encoding?: 'base64' };

/** The header values HAR lists, each a `{name, value}`, wire bytes as their UTF-8 text. */
function headerList(headers: HeaderMap, opts: HarOptions): Header[] {
  const out: Header[] = [];
  for (const name in headers) {
    const redact = !opts.logCredentials && isCredentialHeader(name);
    for (const v of asList(headers[name])) out.push({ name: wireText(name), value: redact ? REDACTED : wireText(v) });
  }
  return out;
}

/** `Cookie: a=1; b=2` as HAR's cookies; none from a redacted header (there is nothing left to list). */
function requestCookies(headers: Header[]): Cookie[] {
  const out: Cookie[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() !== 'cookie' || h.value === REDACTED) continue;
    for (const pair of h.value.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0) out.push({ name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() });
    }
  }
  return out;
}

/** Each `Set-Cookie` as HAR's cookie: its name and value, and the attributes HAR has a field for. */
function responseCookies(headers: Header[]): Cookie[] {
  const out: Cookie[] = [];
  for (const h of headers) {
    if (h.name.toLowerCase() !== 'set-cookie' || h.value === REDACTED) continue;
    const [pair = '', ...attributes] = h.value.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const cookie: Cookie = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() };
    for (const a of attributes) {
      const [key = '', ...rest] = a.split('=');
      const value = rest.join('=').trim();
      switch (key.trim().toLowerCase()) {
        case 'path': cookie.path = value; break;
        case 'domain': cookie.domain = value; break;
        case 'expires': {
          const at = Date.parse(value);
          if (!Number.isNaN(at)) cookie.expires = new Date(at).toISOString();
          break;
        }
        case 'httponly': cookie.httpOnly = true; break;
        case 'secure': cookie.secure = true; break;
      }
    }
    out.push(cookie);
  }
  return out;
}

/** The absolute URL the client asked for: the URI when it is absolute (a proxy request), else http://Host + URI. */
function urlOf(e: AccessEntry): string {
  const uri = wireText(e.request.uri);
  if (/^https?:\/\//i.test(uri)) return uri;
  const host = wireText(e.request.host) || `127.0.0.1:${e.forward.listen_port}`;
  return `http://${host}${uri.startsWith('/') ? uri : '/' + uri}`;
}

function queryOf(url: string): QueryString[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** How much of a body kflog kept, for a comment, when it is not all of it. */
function keptNote(b: CapturedBody, kept: number): string | undefined {
  if (!b.truncated) return undefined;
  return b.decoded_from === undefined
    ? `kflog kept the first ${kept} of ${b.bytes} bytes`
    : `kflog kept the first ${kept} bytes, decoded from ${b.decoded_from}, of ${b.bytes} on the wire`;
}

/** The body's media type: as captured, else the Content-Type header, else '' (HAR requires the field). */
function mimeTypeOf(b: CapturedBody | undefined, headers: HeaderMap): string {
  return wireText(b?.content_type ?? firstHeader(headers, 'Content-Type') ?? '');
}

function keptBytes(b: CapturedBody): number {
  return b.text !== undefined ? Buffer.byteLength(b.text, 'utf8') : Buffer.from(b.base64 ?? '', 'base64').length;
}

function postDataOf(e: AccessEntry): KflogPostData | undefined {
  const b = e.request.body;
  if (b === undefined || (b.bytes === 0 && !b.text && !b.base64)) return undefined;
  const mimeType = mimeTypeOf(b, e.request.headers);
  const comment = keptNote(b, keptBytes(b));
  const data: KflogPostData = b.text !== undefined ? { mimeType, text: b.text } : { mimeType, text: b.base64 ?? '', encoding: 'base64' };
  if (comment !== undefined) data.comment = comment;
  return data;
}

/**
 * The response body as HAR's content: its text, or base64 with `encoding`. `size` is the content's length (the
 * decoded length when kflog decoded it whole), `compression` what Content-Encoding saved.
 */
function contentOf(e: AccessEntry): Content {
  const b = e.resp_body;
  const mimeType = mimeTypeOf(b, e.resp_headers);
  if (b === undefined) {
    const content: Content = { size: e.size, mimeType };
    if (e.size > 0) content.comment = 'kflog did not capture this body';
    return content;
  }
  const kept = keptBytes(b);
  const whole = !b.truncated;
  const content: Content = { size: whole ? kept : b.bytes, mimeType };
  if (whole && b.decoded_from !== undefined && kept > e.size) content.compression = kept - e.size;
  if (b.text !== undefined) content.text = b.text;
  else {
    content.text = b.base64 ?? '';
    content.encoding = 'base64';
  }
  const comment = keptNote(b, kept);
  if (comment !== undefined) content.comment = comment;
  return content;
}

function requestOf(e: AccessEntry, opts: HarOptions): Request {
  const url = urlOf(e);
  const headers = headerList(e.request.headers, opts);
  const request: Request = {
    method: wireText(e.request.method),
    url,
    httpVersion: wireText(e.request.proto),
    cookies: requestCookies(headers),
    headers,
    queryString: queryOf(url),
    // kflog does not keep the head's bytes as sent: unknown.
    headersSize: -1,
    bodySize: e.bytes_read,
  };
  const postData = postDataOf(e);
  if (postData !== undefined) request.postData = postData;
  return request;
}

function responseOf(e: AccessEntry, opts: HarOptions): Response {
  const headers = headerList(e.resp_headers, opts);
  return {
    status: e.status,
    // kflog logs the status code, not the upstream's reason phrase: the standard one.
    statusText: STATUS_CODES[e.status] ?? '',
    httpVersion: wireText(e.request.proto),
    cookies: responseCookies(headers),
    headers,
    content: contentOf(e),
    redirectURL: wireText(firstHeader(e.resp_headers, 'Location') ?? ''),
    // bytes_sent less size also counts chunked framing, so it is not the head's size: unknown.
    headersSize: -1,
    bodySize: e.size,
  };
}

/**
 * The exchange's start as HAR's startedDateTime: when its request head began to arrive (Tq before the request
 * entry's time), so that startedDateTime + time is its end.
 */
function startOf(x: Exchange): number {
  const waited = Math.max(x.access.timings.tq, 0);
  return x.request !== undefined ? x.request.ts - waited : x.access.start;
}

export function harEntry(x: Exchange, opts: HarOptions): KflogHarEntry {
  const e = x.access;
  const { timings, time } = harPhases(e.timings, e.duration);
  const facts: KflogFacts = { trace_id: e.trace_id, forward: e.forward.id, upstream: e.upstream.address, termination_state: e.termination_state };
  if (e.upstream.pod !== undefined) facts.pod = e.upstream.pod;
  if (e.error !== undefined) facts.error = e.error;
  return {
    startedDateTime: new Date(startOf(x)).toISOString(),
    time,
    request: requestOf(e, opts),
    response: responseOf(e, opts),
    cache: {},
    timings,
    _kflog: facts,
  };
}

/**
 * A HAR document, written piece by piece (`write` gets it in order), so an export of a large store never holds
 * its whole text: entries come from an iterator, oldest first, each indented as JSON.stringify(…, 2) would.
 */
export function writeHar(write: (text: string) => void, entries: Iterable<KflogHarEntry>, creatorVersion: string): number {
  const creator = JSON.stringify({ name: 'kflog', version: creatorVersion }, null, 2).replace(/\n/g, '\n    ');
  write(`{\n  "log": {\n    "version": "1.2",\n    "creator": ${creator},\n    "entries": [`);
  let n = 0;
  for (const entry of entries) {
    write((n === 0 ? '\n      ' : ',\n      ') + JSON.stringify(entry, null, 2).replace(/\n/g, '\n      '));
    n++;
  }
  write(n === 0 ? ']\n  }\n}\n' : '\n    ]\n  }\n}\n');
  return n;
}
