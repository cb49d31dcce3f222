import { describe, expect, it } from 'vitest';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const combined = encoder({ format: 'clf', time_local: false });
const common = encoder({ format: 'clf', variant: 'common', time_local: false });

describe('clf', () => {
  it('defaults to the combined variant', () => {
    expect(enc(encoder({ format: 'clf', time_local: false }), accessEntry())).toBe(
      '127.0.0.1 - - [21/Nov/2026:08:46:39 +0000] "GET /api/users HTTP/1.1" 200 34 "-" "curl/7.88.1"\n',
    );
  });

  it('writes the common variant without referer and user agent', () => {
    expect(enc(common, accessEntry())).toBe('127.0.0.1 - - [21/Nov/2026:08:46:39 +0000] "GET /api/users HTTP/1.1" 200 34\n');
  });

  it('writes an HTTP/2 request as nginx builds $request for it: the :path and HTTP/2.0', () => {
    const request = requestInfo({ proto: 'HTTP/2.0', host: 'api.test', uri: '/api/users?page=2', headers: { 'User-Agent': ['curl/7.88.1'] } });
    expect(enc(combined, accessEntry({ request }))).toBe('127.0.0.1 - - [21/Nov/2026:08:46:39 +0000] "GET /api/users?page=2 HTTP/2.0" 200 34 "-" "curl/7.88.1"\n');
  });

  it('has no line for request entries or process entries', () => {
    expect(enc(combined, requestEntry())).toBeNull();
    expect(enc(combined, processEntry())).toBeNull();
  });

  it("writes 499 when no response was sent (the client went away), as nginx does", () => {
    expect(enc(common, accessEntry({ status: 0, size: 0 }))).toContain('" 499 0\n');
  });

  it('writes the remote user when there is one, escaped, its spaces too so the fields never shift', () => {
    expect(enc(common, accessEntry({ user_id: 'al "ice"' }))).toMatch(/^127\.0\.0\.1 - al\\x20\\x22ice\\x22 \[/);
  });

  it('writes an empty header as "" and an absent one as "-", as nginx does', () => {
    const request = requestInfo({ headers: { Referer: [''] } });
    expect(enc(combined, accessEntry({ request }))).toMatch(/ 34 "" "-"\n$/);
  });

  it('uses the first of repeated Referer and User-Agent headers', () => {
    const request = requestInfo({ headers: { Referer: ['a', 'b'], 'User-Agent': ['x', 'y'] } });
    expect(enc(combined, accessEntry({ request }))).toMatch(/ "a" "x"\n$/);
  });

  it('escapes quotes, backslashes, CR/LF and non-ASCII bytes so a line keeps its fields', () => {
    const ua = Buffer.from('evil"\r\n127.0.0.1 - - [x] "GET / HTTP/1.1" 200 0 é\\', 'utf8').toString('latin1');
    const request = requestInfo({ uri: '/a"b', headers: { 'User-Agent': [ua], Referer: ['\x1b[31m'] } });
    const line = enc(combined, accessEntry({ request }))!;
    expect(line.split('\n')).toHaveLength(2);
    expect(line).toBe(
      '127.0.0.1 - - [21/Nov/2026:08:46:39 +0000] "GET /a\\x22b HTTP/1.1" 200 34 "\\x1B[31m" ' +
        '"evil\\x22\\x0D\\x0A127.0.0.1 - - [x] \\x22GET / HTTP/1.1\\x22 200 0 \\xC3\\xA9\\x5C"\n',
    );
    expect(line.match(/"/g)).toHaveLength(6);
  });

  it('writes a malformed request by its raw line, escaped', () => {
    const request = requestInfo({ method: '', uri: '', proto: '', headers: {}, raw_line: '\x16\x03\x01 "' });
    expect(enc(common, accessEntry({ request, status: 400, size: 23 }))).toContain('] "\\x16\\x03\\x01 \\x22" 400 23\n');
  });
});
