import type { Har } from 'har-format';
import { describe, expect, it } from 'vitest';
import type { AccessEntry } from '../../src/core/entry.js';
import { harEntry, writeHar, type Exchange, type KflogHarEntry } from '../../src/export/har.js';
import { everyFieldAccessEntry, everyFieldRequestEntry } from '../emit/every-field.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { harProblems, timingProblems } from '../helpers/har.js';

const REDACTING = { logCredentials: false };

function doc(entries: KflogHarEntry[]): Har {
  let text = '';
  writeHar((t) => (text += t), entries, '0.1.0');
  return JSON.parse(text) as Har;
}

function one(x: Exchange, opts = REDACTING): KflogHarEntry {
  return harEntry(x, opts);
}

const post = accessEntry({
  request: requestInfo({
    method: 'POST',
    uri: '/echo?page=2&q=a%20b',
    headers: { Host: ['127.0.0.1:8080'], 'Content-Type': ['application/json'], Authorization: ['Bearer s3cret'], Cookie: ['sid=1; theme=dark'] },
    body: { bytes: 14, text: '{"name":"Ada"}', truncated: false, content_type: 'application/json' },
  }),
  bytes_read: 14,
  resp_headers: { 'Content-Type': ['application/json'], 'Set-Cookie': ['sid=2; Path=/; HttpOnly; Secure'] },
  resp_body: { bytes: 14, text: '{"name":"Ada"}', truncated: false, content_type: 'application/json' },
  size: 14,
});

describe('HAR entries from kflog exchanges', () => {
  it('a document of the fully populated exchange is valid HAR 1.2 per har-validator', async () => {
    const har = doc([one({ request: everyFieldRequestEntry, access: everyFieldAccessEntry })]);
    expect(await harProblems(har)).toEqual([]);
    expect(timingProblems(har)).toEqual([]);
    expect(har.log).toMatchObject({ version: '1.2', creator: { name: 'kflog', version: '0.1.0' } });
  });

  it('the request: its absolute URL on the Host it asked, its query, headers as name/value pairs and its text body', () => {
    const r = one({ access: post }).request;
    expect(r).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:8080/echo?page=2&q=a%20b', httpVersion: 'HTTP/1.1', bodySize: 14, headersSize: -1 });
    expect(r.queryString).toEqual([{ name: 'page', value: '2' }, { name: 'q', value: 'a b' }]);
    expect(r.headers).toContainEqual({ name: 'Content-Type', value: 'application/json' });
    expect(r.postData).toEqual({ mimeType: 'application/json', text: '{"name":"Ada"}' });
  });

  it('the response: status and its standard text, headers, and the body as text with its size', () => {
    const r = one({ access: post }).response;
    expect(r).toMatchObject({ status: 200, statusText: 'OK', bodySize: 14, redirectURL: '' });
    expect(r.content).toEqual({ size: 14, mimeType: 'application/json', text: '{"name":"Ada"}' });
  });

  it('credentials are REDACTED by default and no cookie is listed from them', () => {
    const e = one({ access: post });
    expect(e.request.headers).toContainEqual({ name: 'Authorization', value: 'REDACTED' });
    expect(e.request.headers).toContainEqual({ name: 'Cookie', value: 'REDACTED' });
    expect(e.response.headers).toContainEqual({ name: 'Set-Cookie', value: 'REDACTED' });
    expect(JSON.stringify(e)).not.toContain('s3cret');
    expect([e.request.cookies, e.response.cookies]).toEqual([[], []]);
  });

  it('a header a log already redacted stays REDACTED, even with logCredentials', () => {
    const redacted = accessEntry({ request: requestInfo({ headers: { Authorization: ['REDACTED'] } }) });
    expect(one({ access: redacted }, { logCredentials: true }).request.headers).toEqual([{ name: 'Authorization', value: 'REDACTED' }]);
  });

  it('with logCredentials the credentials are kept and the cookies listed', () => {
    const e = one({ access: post }, { logCredentials: true });
    expect(e.request.headers).toContainEqual({ name: 'Authorization', value: 'Bearer s3cret' });
    expect(e.request.cookies).toEqual([{ name: 'sid', value: '1' }, { name: 'theme', value: 'dark' }]);
    expect(e.response.cookies).toEqual([{ name: 'sid', value: '2', path: '/', httpOnly: true, secure: true }]);
  });

  it('a binary body is base64 with encoding "base64", in the response content and the request postData', () => {
    const body = { bytes: 4, base64: 'AAH//g==', truncated: false, content_type: 'application/octet-stream' };
    const e = one({ access: accessEntry({ request: requestInfo({ method: 'POST', body }), resp_body: body, size: 4 }) });
    expect(e.response.content).toEqual({ size: 4, mimeType: 'application/octet-stream', text: 'AAH//g==', encoding: 'base64' });
    expect(e.request.postData).toEqual({ mimeType: 'application/octet-stream', text: 'AAH//g==', encoding: 'base64' });
  });

  it('a truncated body says how much kflog kept, and its size is the size on the wire', () => {
    const e = one({ access: accessEntry({ resp_body: { bytes: 70_000, text: 'abcd', truncated: true }, size: 70_000 }) });
    expect(e.response.content).toMatchObject({ size: 70_000, text: 'abcd', comment: 'kflog kept the first 4 of 70000 bytes' });
  });

  it('a truncated body kflog decoded says so, its kept bytes decoded and its total on the wire', () => {
    const e = one({ access: accessEntry({ resp_body: { bytes: 5000, text: 'x'.repeat(100), truncated: true, decoded_from: 'gzip' }, size: 5000 }) });
    expect(e.response.content.comment).toBe('kflog kept the first 100 bytes, decoded from gzip, of 5000 on the wire');
  });

  it('a body kflog decoded whole has its decoded size and the compression saved', () => {
    const text = 'x'.repeat(1000);
    const e = one({ access: accessEntry({ resp_headers: { 'Content-Encoding': ['gzip'] }, resp_body: { bytes: 29, text, truncated: false, decoded_from: 'gzip' }, size: 29 }) });
    expect(e.response.content).toMatchObject({ size: 1000, compression: 971, text });
    expect(e.response.bodySize).toBe(29);
  });

  it('a body kflog did not capture has no text and says so', () => {
    expect(one({ access: accessEntry({ size: 34 }) }).response.content).toEqual({ size: 34, mimeType: 'application/json', comment: 'kflog did not capture this body' });
  });

  it('starts when its request head began to arrive: the request entry\'s time less Tq, else the access entry\'s start', () => {
    const access: AccessEntry = { ...accessEntry(), timings: { tq: 3, tw: 0, tc: 1, tr: 1, tt: 6 } };
    const request = requestEntry({ ts: Date.UTC(2026, 11, 7, 10, 0, 0, 500) });
    expect(one({ request, access }).startedDateTime).toBe('2026-12-07T10:00:00.497Z');
    expect(one({ access: { ...access, start: Date.UTC(2026, 11, 7, 9, 0, 0) } }).startedDateTime).toBe('2026-12-07T09:00:00.000Z');
  });

  it('kflog\'s own facts go in _kflog: trace ID, forward, upstream, pod, termination state and error', () => {
    expect(one({ access: everyFieldAccessEntry })._kflog).toEqual({
      trace_id: everyFieldAccessEntry.trace_id, forward: 'orders', upstream: '10.1.2.3:8080', pod: 'orders-7d9f-abcde', termination_state: 'SH--', error: 'upstream reset',
    });
  });

  it('wire bytes in the URI and headers are their UTF-8 text', () => {
    const e = one({ access: accessEntry({ request: requestInfo({ uri: '/caf\xc3\xa9', headers: { 'X-Name': ['Ren\xc3\xa9e'] } }) }) });
    expect(e.request.url).toBe('http://127.0.0.1:8080/café');
    expect(e.request.headers).toEqual([{ name: 'X-Name', value: 'Renée' }]);
  });

  it('a document with no exchange is valid HAR with no entries', async () => {
    const har = doc([]);
    expect(har.log.entries).toEqual([]);
    expect(await harProblems(har)).toEqual([]);
  });
});
