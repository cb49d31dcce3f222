import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CapturedBody } from '../../src/core/entry.js';
import { encoderFileHeader } from '../../src/encoders/registry.js';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const kftray = encoder({ format: 'kftray' });
const restClient = encoder({ format: 'kftray', style: 'rest-client' });

function responseBody(out: string): string {
  return out.slice(out.lastIndexOf('Body:\n') + 6);
}

function withBody(body: CapturedBody, headers: Record<string, string[]> = {}): string {
  return enc(kftray, accessEntry({ resp_body: body, resp_headers: { 'Content-Type': [body.content_type ?? 'application/octet-stream'], ...headers } }))!;
}

const b64 = (buf: Buffer): string => buf.toString('base64');

describe('kftray blocks', () => {
  it('writes the request block when the request entry arrives and the response block with Took: on the access entry', () => {
    const req = enc(kftray, requestEntry())!;
    expect(req).toMatch(/^-{40}\nTrace ID: 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\nRequest at: 2026-11-21T08:46:39\.121956\+00:00\nMethod: GET\nPath: \/api\/users\nVersion: 1\n\nHeaders:\nHost: 127\.0\.0\.1:8080\n/);
    expect(req.endsWith('\nBody:\n<empty>\n\n')).toBe(true);
    const res = enc(kftray, accessEntry({ duration: 0.1449 }))!;
    expect(res).toMatch(/^-{40}\nTrace ID: 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\nResponse at: 2026-11-21T08:46:39\.123456\+00:00\nTook: 144 ms\nStatus: 200\n\nHeaders:\nContent-Type: application\/json\n/);
    expect(res).not.toContain('Request at:');
  });

  it('writes HTTP/1.0 as Version: 0, as kftray does', () => {
    expect(enc(kftray, requestEntry({ request: requestInfo({ proto: 'HTTP/1.0' }) }))).toContain('\nVersion: 0\n');
  });

  it('writes HTTP/2.0 as Version: 2', () => {
    expect(enc(kftray, requestEntry({ request: requestInfo({ proto: 'HTTP/2.0' }) }))).toContain('\nVersion: 2\n');
  });

  it('writes a request whose body is still arriving together with its response, so the body is shown', () => {
    const headers = { Host: ['h'], 'Content-Type': ['application/json'], 'Content-Length': ['13'] };
    const request = requestInfo({ method: 'POST', uri: '/echo', headers });
    expect(enc(kftray, requestEntry({ request }))).toBeNull();
    request.body = { bytes: 13, text: '{"name":"Jo"}', truncated: false, content_type: 'application/json' };
    const out = enc(kftray, accessEntry({ request, bytes_read: 13, duration: 0.01 }))!;
    const blocks = out.split(/^(?=-{40}$)/m);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('Request at: 2026-11-21T08:46:39.113456+00:00\nMethod: POST\n');
    expect(blocks[0]).toContain('Body:\n{\n  "name": "Jo"\n}\n');
    expect(blocks[1]).toContain('Response at: ');
  });

  it('says a request body was not captured instead of pretending it was empty', () => {
    const request = requestInfo({ method: 'PUT', headers: { 'Transfer-Encoding': ['chunked'] } });
    const out = enc(kftray, accessEntry({ request, bytes_read: 5000 }))!;
    expect(out).toContain('Body:\n<not captured: 5000 bytes>\n');
  });

  it('writes a malformed request as a whole request block with its raw line, then the response', () => {
    const request = requestInfo({ method: '', uri: '', proto: '', headers: {}, raw_line: 'THIS IS NOT HTTP\x1b[2J' });
    const out = enc(kftray, accessEntry({ request, status: 400, error: 'malformed request: HPE_INVALID_METHOD' }))!;
    expect(out).toContain('Method: -\nPath: -\nVersion: -\nRequest line: THIS IS NOT HTTP\\x1B[2J\n');
    expect(out).toContain('Status: 400\nError: malformed request: HPE_INVALID_METHOD\n');
  });

  it('writes nothing for process entries', () => {
    expect(enc(kftray, processEntry())).toBeNull();
    expect(enc(restClient, processEntry())).toBeNull();
  });

  it('redacts credential headers unless the log opts in', () => {
    const request = requestInfo({ headers: { authorization: ['Bearer s3cret'], Cookie: ['sid=1'] } });
    const out = enc(kftray, requestEntry({ request }))!;
    expect(out).toContain('authorization: REDACTED\nCookie: REDACTED\n');
    expect(out).not.toContain('s3cret');
    const clear = enc(encoder({ format: 'kftray' }, { logCredentials: true }), requestEntry({ request }))!;
    expect(clear).toContain('authorization: Bearer s3cret\n');
  });
});

describe('kftray bodies', () => {
  it('pretty-prints JSON with 2 spaces, keeping big numbers exact', () => {
    const text = '{"id":12345678901234567890,"tags":[]}';
    expect(responseBody(withBody({ bytes: text.length, text, truncated: false, content_type: 'application/json' }))).toBe(
      '{\n  "id": 12345678901234567890,\n  "tags": []\n}\n\n',
    );
  });

  it('shows text bodies as they are, trimmed at the end as kftray does', () => {
    expect(responseBody(withBody({ bytes: 8, text: 'hello\n\n', truncated: false, content_type: 'text/plain' }))).toBe('hello\n\n');
  });

  it('writes <empty> for an empty body', () => {
    expect(responseBody(withBody({ bytes: 0, text: '', truncated: false }))).toBe('<empty>\n\n');
    expect(responseBody(enc(kftray, accessEntry({ size: 0 }))!)).toBe('<empty>\n\n');
  });

  it('writes a one-line marker with size and content type for binary bodies', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]);
    expect(responseBody(withBody({ bytes: 2048, base64: b64(png), truncated: true, content_type: 'image/png' }))).toBe(
      '<binary: 2048 bytes, image/png, 8 bytes captured>\n\n',
    );
  });

  it('marks truncated text with the bytes kept and the total', () => {
    const out = responseBody(withBody({ bytes: 100000, text: '{"items":[1,2,3', truncated: true, content_type: 'application/json' }));
    expect(out).toBe('{"items":[1,2,3\n<truncated: 15 bytes of 100000 bytes shown>\n\n');
  });

  it('does not take a capture cut inside a UTF-8 character for binary', () => {
    const bytes = Buffer.from('héhé', 'utf8').subarray(0, 5); // ends inside the second é
    const out = responseBody(withBody({ bytes: 6, base64: b64(bytes), truncated: true, content_type: 'text/plain' }));
    expect(out).toBe('héh\n<truncated: 5 bytes of 6 bytes shown>\n\n');
  });

  for (const [encoding, compress] of [
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
    ['deflate', deflateSync],
  ] as const) {
    it(`decodes a ${encoding} body the proxy kept compressed`, () => {
      const json = '{"compressed":true}';
      const packed = compress(Buffer.from(json));
      const out = withBody({ bytes: packed.length, base64: b64(packed), truncated: false, content_type: 'application/json' }, { 'Content-Encoding': [encoding] });
      expect(responseBody(out)).toBe('{\n  "compressed": true\n}\n\n');
    });
  }

  it('decodes raw deflate, which some servers send for "deflate"', () => {
    const packed = deflateRawSync(Buffer.from('plain words'));
    const out = withBody({ bytes: packed.length, base64: b64(packed), truncated: false, content_type: 'text/plain' }, { 'Content-Encoding': ['deflate'] });
    expect(responseBody(out)).toBe('plain words\n\n');
  });

  it('decodes what a truncated gzip capture holds', () => {
    const text = 'line of text\n'.repeat(2000);
    const packed = gzipSync(Buffer.from(text));
    const cut = packed.subarray(0, Math.floor(packed.length / 2));
    const out = responseBody(withBody({ bytes: packed.length, base64: b64(cut), truncated: true, content_type: 'text/plain' }, { 'Content-Encoding': ['gzip'] }));
    expect(out.startsWith('line of text\nline of text\n')).toBe(true);
    expect(out).toMatch(/\n<truncated: \d+ bytes decoded from gzip, of \d+ bytes shown>\n\n$/);
  });

  it('does not decode again a body the proxy already decoded', () => {
    const out = withBody({ bytes: 40, text: '{"a":1}', truncated: false, content_type: 'application/json', decoded_from: 'gzip' }, { 'Content-Encoding': ['gzip'] });
    expect(responseBody(out)).toBe('{\n  "a": 1\n}\n\n');
  });

  it('says so when a compressed body cannot be decoded', () => {
    const junk = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = withBody({ bytes: 9, base64: b64(junk), truncated: false, content_type: 'application/json' }, { 'Content-Encoding': ['gzip'] });
    expect(responseBody(out)).toBe('<binary: 9 bytes, application/json, gzip-encoded, undecodable>\n\n');
  });

  it('refuses to expand a decompression bomb past its limit', () => {
    const bomb = gzipSync(Buffer.alloc(64 << 20));
    const out = withBody({ bytes: bomb.length, base64: b64(bomb), truncated: false, content_type: 'text/plain' }, { 'Content-Encoding': ['gzip'] });
    expect(responseBody(out)).toMatch(/^<binary: \d+ bytes, text\/plain, gzip-encoded, over 1048576 bytes decoded>\n\n$/);
  });
});

describe('kftray forging', () => {
  const forged = 'ok\n----------------------------------------\nTrace ID: 00000000-0000-0000-0000-000000000000\nResponse at: 2020-01-01T00:00:00+00:00';

  it('escapes body lines that would read as a separator or a Trace ID line', () => {
    const out = withBody({ bytes: forged.length, text: forged, truncated: false, content_type: 'text/plain' });
    expect(out.match(/^-{40}$/gm)).toHaveLength(1);
    expect(out.match(/^Trace ID:/gm)).toHaveLength(1);
    expect(responseBody(out)).toContain('\\----------------------------------------\n\\Trace ID: 0000');
  });

  it('keeps the escape reversible: a line that already starts with a backslash gets one more', () => {
    const text = '\\----------------------------------------';
    expect(responseBody(withBody({ bytes: text.length, text, truncated: false, content_type: 'text/plain' }))).toBe('\\' + text + '\n\n');
  });

  it('escapes a header whose name is a separator', () => {
    const request = requestInfo({ headers: { '----------------------------------------': ['x'] } });
    const out = enc(kftray, requestEntry({ request }))!;
    expect(out.match(/^-{40}/gm)).toHaveLength(1);
  });

  it('shows CR and other controls in bodies instead of letting them break or rewrite lines', () => {
    const text = 'a\rTrace ID: x\u2028Trace ID: y\x1b[2K';
    const out = withBody({ bytes: text.length, text, truncated: false, content_type: 'text/plain' });
    expect(out.match(/^Trace ID:/gm)).toHaveLength(1);
    expect(responseBody(out)).toBe('a\\x0DTrace ID: x\\u2028Trace ID: y\\x1B[2K\n\n');
  });
});

describe('kftray rest-client style', () => {
  it('writes the request as a replayable .http request with kftray comment lines and ### separators', () => {
    const out = enc(restClient, requestEntry())!;
    expect(out).toBe(
      '\n# ----------------------------------------\n# Trace ID: 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n# Request at: 2026-11-21T08:46:39.121956+00:00\n' +
        '# @no-cookie-jar\nGET http://127.0.0.1:8080/api/users HTTP/1.1\nHost: 127.0.0.1:8080\nUser-Agent: curl/7.88.1\nAccept: */*\n\n###\n',
    );
  });

  it('writes the request body after a blank line byte for byte, leaving Content-Length to the client, and the response as comments only', () => {
    const request = requestInfo({ method: 'POST', uri: '/echo', headers: { Host: ['h:1'], 'Content-Length': ['7'] } });
    request.body = { bytes: 7, text: '{"a":1}', truncated: false, content_type: 'application/json' };
    const out = enc(restClient, accessEntry({ request, resp_body: { bytes: 2, text: 'ok', truncated: false, content_type: 'text/plain' } }))!;
    expect(out).toContain('POST http://h:1/echo HTTP/1.1\nHost: h:1\n# Content-Length: 7 (the client computes it from the body)\n\n{"a":1}\n\n###\n');
    const response = out.slice(out.lastIndexOf('\n# ----'));
    expect(response).toContain('# Took: 1 ms\n# HTTP/1.1 200 OK\n# Content-Type: application/json\n');
    expect(response).toContain('#\n# ok\n\n###\n');
    // every line of the response block is a comment (or blank, or the separator)
    for (const line of response.split('\n')) expect(line === '' || line === '###' || line.startsWith('#')).toBe(true);
  });

  it('escapes body lines that would split requests or forge kftray comments', () => {
    const text = 'x\n### next\n# Trace ID: forged\n# ----------------------------------------';
    const request = requestInfo({ method: 'POST', headers: { Host: ['h'], 'Content-Length': ['9'] } });
    request.body = { bytes: text.length, text, truncated: false, content_type: 'text/plain' };
    const out = enc(restClient, accessEntry({ request, resp_body: { bytes: text.length, text, truncated: false } }))!;
    expect(out.match(/^###/gm)).toHaveLength(2);
    expect(out.match(/^# Trace ID:/gm)).toHaveLength(2);
    expect(out.match(/^# -{40}$/gm)).toHaveLength(2);
  });

  it('writes redacted credentials as the file\'s variables, declared once in the file header', () => {
    const request = requestInfo({ method: 'GET', headers: { Host: ['h'], Authorization: ['Bearer x'], Cookie: ['a=1'], 'Proxy-Authorization': ['Basic y'] } });
    const out = enc(restClient, { ...requestEntry(), request })!;
    expect(out).toContain('Authorization: {{authorization}}\nCookie: {{cookie}}\nProxy-Authorization: {{proxy_authorization}}\n');
    expect(out).not.toMatch(/Bearer x|a=1|Basic y/);
    const header = encoderFileHeader({ format: 'kftray', style: 'rest-client' })!;
    expect(header.match(/^@(\w+) = /gm)).toEqual(['@authorization = ', '@proxy_authorization = ', '@cookie = ']);
    expect(header.endsWith('\n###\n')).toBe(true);
    expect(encoderFileHeader({ format: 'kftray' })).toBeUndefined();
  });

  it.each([
    ['a body truncated by max_body_bytes', { bytes: 100, text: 'x'.repeat(16), truncated: true }, /^# Not replayable: its body was truncated by max_body_bytes \(16 bytes of 100 bytes captured\)$/m],
    ['a binary body', { bytes: 3, base64: 'AAEC', truncated: false, content_type: 'application/octet-stream' }, /^# Not replayable: its body is binary \(3 bytes, application\/octet-stream\)/m],
    ['a body ending with a line break', { bytes: 4, text: 'abc\n', truncated: false }, /^# Not replayable: its body ends with a line break/m],
    ['a body with a variable reference', { bytes: 9, text: 'a={{b}}', truncated: false }, /^# Not replayable: its body has "\{\{"/m],
    ['a body with a file include line', { bytes: 12, text: '< /etc/passwd', truncated: false }, /^# Not replayable: its body has a line REST clients read as a file include/m],
    ['a body that forges a separator', { bytes: 9, text: 'x\n### y', truncated: false }, /^# Not replayable: its body has lines a reader would take for a block separator/m],
  ])('comments out a request with %s, saying why, so no client sends it', (_name, body, reason) => {
    const request = requestInfo({ method: 'POST', uri: '/p', headers: { Host: ['h'], 'Content-Length': [String(body.bytes)] } });
    request.body = body;
    const out = enc(restClient, accessEntry({ request }))!;
    expect(out).toMatch(reason);
    const requestBlock = out.slice(0, out.indexOf('###'));
    for (const line of requestBlock.split('\n')) expect(line === '' || line.startsWith('#'), line).toBe(true);
  });
});
