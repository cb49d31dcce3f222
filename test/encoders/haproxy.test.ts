import { describe, expect, it } from 'vitest';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const plain = encoder({ format: 'haproxy', time_local: false });

describe('haproxy', () => {
  it('writes the httplog fields from the access entry', () => {
    expect(enc(plain, accessEntry())).toBe(
      '127.0.0.1:49496 [21/Nov/2026:08:46:39.121] users echo/127.0.0.1:3000 0/0/0/1/1 200 165 - - ---- 1/1/0/0/0 0/0 "GET /api/users HTTP/1.1"\n',
    );
  });

  it('writes an HTTP/2 request line in the absolute form HAProxy 2.x logs, from :authority and the scheme', () => {
    const h2 = { proto: 'HTTP/2.0', host: 'api.test:8080', headers: { 'User-Agent': ['curl/7.88.1'] } };
    expect(enc(plain, accessEntry({ request: requestInfo(h2) }))).toMatch(/ "GET http:\/\/api\.test:8080\/api\/users HTTP\/2\.0"\n$/);
    const tls = { resumed: false, version: 772, cipher_suite: 4865, proto: 'h2', server_name: 'api.test' };
    expect(enc(plain, accessEntry({ request: requestInfo({ ...h2, tls }) }))).toMatch(/ "GET https:\/\/api\.test:8080\/api\/users HTTP\/2\.0"\n$/);
  });

  it('keeps the path alone for an HTTP/2 request that named its host in a Host header, as HAProxy does', () => {
    const request = requestInfo({ proto: 'HTTP/2.0', host: 'api.test', headers: { Host: ['api.test'] } });
    expect(enc(plain, accessEntry({ request }))).toMatch(/ "GET \/api\/users HTTP\/2\.0"\n$/);
  });

  it('leaves an asterisk :path out of the absolute form, as HAProxy does', () => {
    const request = requestInfo({ proto: 'HTTP/2.0', method: 'OPTIONS', uri: '*', host: 'api.test', headers: {} });
    expect(enc(plain, accessEntry({ request }))).toMatch(/ "OPTIONS http:\/\/api\.test HTTP\/2\.0"\n$/);
  });

  it('has no line for request entries or process entries', () => {
    expect(enc(plain, requestEntry())).toBeNull();
    expect(enc(plain, processEntry())).toBeNull();
  });

  it('names the pod as the server for Kubernetes targets', () => {
    const out = enc(plain, accessEntry({ forward: { id: 'api', listen_port: 1, backend: 'default.api' }, upstream: { address: '127.0.0.1:40000', pod: 'api-7d9f-x2' } }));
    expect(out).toContain(' api default.api/api-7d9f-x2 ');
  });

  it('writes <NOSRV> when no upstream was reached and -1 as status when no response was sent', () => {
    const out = enc(plain, accessEntry({ upstream: { address: '' }, status: 0, timings: { tq: 0, tw: 0, tc: -1, tr: -1, tt: 5 }, termination_state: 'CC--' }));
    expect(out).toContain(' users echo/<NOSRV> 0/0/-1/-1/5 -1 165 - - CC-- ');
  });

  it('writes a malformed request as HAProxy does, with the termination state and timers given', () => {
    const request = requestInfo({ method: '', uri: '', proto: '', headers: {}, raw_line: 'GARBAGE "x"' });
    const out = enc(plain, accessEntry({ request, status: 400, bytes_sent: 0, termination_state: 'CR--', timings: { tq: -1, tw: -1, tc: -1, tr: -1, tt: 0 } }));
    expect(out).toBe('127.0.0.1:49496 [21/Nov/2026:08:46:39.121] users users/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"\n');
  });

  it('captures the last occurrence of each header, cut to its length, empty when absent', () => {
    const e = encoder({ format: 'haproxy', time_local: false, capture_request_headers: [{ name: 'x-a', len: 3 }, { name: 'X-Missing' }, { name: 'User-Agent', len: 64 }] });
    const request = requestInfo({ headers: { 'X-A': ['first', 'second'], 'User-Agent': ['curl'] } });
    expect(enc(e, accessEntry({ request }))).toContain(' 0/0 {sec||curl} "GET ');
  });

  it('writes only the response block when only response headers are captured', () => {
    const e = encoder({ format: 'haproxy', time_local: false, capture_response_headers: [{ name: 'Content-Type' }] });
    expect(enc(e, accessEntry())).toContain(' 0/0 {application/json} "GET ');
  });

  it('escapes captured headers and the request line with #XX, so braces, pipes and quotes stay balanced', () => {
    const e = encoder({ format: 'haproxy', time_local: false, capture_request_headers: [{ name: 'User-Agent' }] });
    const request = requestInfo({ uri: '/a"b#c', headers: { 'User-Agent': ['a}|{"b\r\n'] } });
    const out = enc(e, accessEntry({ request }))!;
    expect(out).toContain(' {a#7D#7C#7B#22b#0D#0A} "GET /a#22b#23c HTTP/1.1"\n');
    expect(out.split('\n')).toHaveLength(2);
  });

  it('redacts a captured credential header unless the log opts in', () => {
    const options = { format: 'haproxy', time_local: false, capture_request_headers: [{ name: 'Authorization' }] };
    const request = requestInfo({ headers: { Authorization: ['Bearer s3cret'] } });
    expect(enc(encoder(options), accessEntry({ request }))).toContain(' {REDACTED} ');
    expect(enc(encoder(options, { logCredentials: true }), accessEntry({ request }))).toContain(' {Bearer s3cret} ');
  });

  it('prefixes the syslog header with a zero-padded day, the host and kflog[pid]', () => {
    const e = encoder({ format: 'haproxy', time_local: false, syslog_header: true, hostname: 'box' });
    const out = enc(e, accessEntry({ ts: Date.UTC(2026, 10, 2, 3, 4, 5, 600) }))!;
    expect(out.startsWith(`Nov 02 03:04:05 box kflog[${process.pid}]: 127.0.0.1:49496 [`)).toBe(true);
  });
});
