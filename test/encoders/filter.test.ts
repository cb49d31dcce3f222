import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForLines } from '../helpers/files.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { accessEntry, processEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const parse = (s: string | null): Record<string, any> => JSON.parse(s!); // eslint-disable-line @typescript-eslint/no-explicit-any
const sha8 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

function filtered(fields: Record<string, unknown>, wrap: Record<string, unknown> = { format: 'json' }, logCredentials = false) {
  return encoder({ format: 'filter', wrap: wrap as { format: string }, fields }, { logCredentials });
}

describe('filter', () => {
  it('deletes a field, matching header names in any case', () => {
    const out = parse(enc(filtered({ 'request>headers>user-agent': { filter: 'delete' }, user_id: { filter: 'delete' } }), accessEntry()));
    expect(out.request.headers['User-Agent']).toBeUndefined();
    expect(out.request.headers.Accept).toEqual(['*/*']);
    expect('user_id' in out).toBe(false);
  });

  it('replaces a value, keeping header values a list', () => {
    const out = parse(enc(filtered({ 'request>headers>Accept': { filter: 'replace', value: 'any' }, 'request>host': { filter: 'replace', value: 'h' } }), accessEntry()));
    expect(out.request.headers.Accept).toEqual(['any']);
    expect(out.request.host).toBe('h');
  });

  it("hashes to the first 8 hex digits of SHA-256, each header value alone, as Caddy's hash filter", () => {
    const request = requestInfo({ headers: { 'X-Token': ['abc', 'def'] } });
    const out = parse(enc(filtered({ 'request>headers>X-Token': { filter: 'hash' } }), accessEntry({ request })));
    expect(out.request.headers['X-Token']).toEqual([sha8('abc'), sha8('def')]);
  });

  it('masks IPv4 and IPv6 addresses to their CIDR prefix, ports and lists included', () => {
    const request = requestInfo({ remote_ip: '203.0.113.77', headers: { 'X-Forwarded-For': ['198.51.100.9, [2001:db8:1:2::7]:443, ::ffff:10.1.2.3, unknown'] } });
    const e = filtered({ 'request>remote_ip': { filter: 'ip_mask', ipv4_cidr: 16 }, 'request>headers>X-Forwarded-For': { filter: 'ip_mask', ipv4_cidr: 24, ipv6_cidr: 32 } });
    const out = parse(enc(e, accessEntry({ request })));
    expect(out.request.remote_ip).toBe('203.0.0.0');
    expect(out.request.headers['X-Forwarded-For']).toEqual(['198.51.100.0, [2001:db8::]:443, 10.1.2.0, unknown']);
  });

  it('acts on named query parameters and keeps the others in order', () => {
    const request = requestInfo({ uri: '/cb?z=1&token=s3cret&code=abc&state=x+y&code=def' });
    const e = filtered({ 'request>uri': { filter: 'query', actions: [{ type: 'delete', parameter: 'token' }, { type: 'replace', parameter: 'state', value: 'a b' }, { type: 'hash', parameter: 'code' }] } });
    expect(parse(enc(e, accessEntry({ request }))).request.uri).toBe(`/cb?z=1&code=${sha8('abc')}&state=a%20b&code=${sha8('def')}`);
  });

  it('acts on named cookies of Cookie and Set-Cookie headers', () => {
    const request = requestInfo({ headers: { Cookie: ['sid=abc; theme=dark; csrf=t'] } });
    const resp_headers = { 'Set-Cookie': ['sid=new; Path=/; HttpOnly', 'theme=light', 'csrf=u; Secure'] };
    const actions = [{ type: 'hash', name: 'sid' }, { type: 'replace', parameter: 'theme', value: 'x' }, { type: 'delete', parameter: 'csrf' }];
    const e = filtered({ 'request>headers>Cookie': { filter: 'cookie', actions }, 'resp_headers>Set-Cookie': { filter: 'cookie', actions } }, { format: 'json' }, true);
    const out = parse(enc(e, accessEntry({ request, resp_headers })));
    expect(out.request.headers.Cookie).toEqual([`sid=${sha8('abc')}; theme=x`]);
    expect(out.resp_headers['Set-Cookie']).toEqual([`sid=${sha8('new')}; Path=/; HttpOnly`, 'theme=x']);
  });

  it('replaces regexp matches, understanding Go syntax', () => {
    const request = requestInfo({ uri: '/users/12345/Orders/777' });
    const e = filtered({ 'request>uri': { filter: 'regexp', regexp: '(?i)/(?P<kind>users|orders)/\\d+', value: '/${kind}/N' } });
    expect(parse(enc(e, accessEntry({ request }))).request.uri).toBe('/users/N/Orders/N');
  });

  it('never modifies the entry it was given (other logs share it)', () => {
    const entry = accessEntry();
    const before = JSON.stringify(entry);
    enc(filtered({ 'request>headers>Accept': { filter: 'delete' }, 'request>remote_ip': { filter: 'ip_mask' } }), entry);
    expect(JSON.stringify(entry)).toBe(before);
  });

  it('still redacts credentials after filtering unless the log opts in', () => {
    const request = requestInfo({ headers: { Authorization: ['Bearer s3cret'] } });
    const out = parse(enc(filtered({ 'request>headers>Authorization': { filter: 'regexp', regexp: 's3', value: 'S3' } }), accessEntry({ request })));
    expect(out.request.headers.Authorization).toEqual(['REDACTED']);
  });

  it('filters the fields of process entries by name', () => {
    const out = parse(enc(filtered({ address: { filter: 'ip_mask', ipv4_cidr: 8 } }), processEntry()));
    expect(out.address).toBe('127.0.0.0:8080');
  });

  it('wraps line formats as well: a deleted field prints as nginx prints a missing one', () => {
    const e = filtered({ 'request>headers>User-Agent': { filter: 'delete' }, 'request>remote_ip': { filter: 'ip_mask', ipv4_cidr: 24 } }, { format: 'clf', time_local: false });
    expect(enc(e, accessEntry())).toBe('127.0.0.0 - - [21/Nov/2026:08:46:39 +0000] "GET /api/users HTTP/1.1" 200 34 "-" "-"\n');
  });

  it('rejects unknown fields, sub-fields of values, and string filters on numbers', () => {
    expect(() => filtered({ 'request>nope': { filter: 'delete' } })).toThrow(/unknown field "nope"/);
    expect(() => filtered({ 'request>uri>x': { filter: 'delete' } })).toThrow(/has no sub-fields/);
    expect(() => filtered({ status: { filter: 'hash' } })).toThrow(/this field is a number/);
    expect(() => filtered({ request: { filter: 'hash' } })).toThrow(/only "delete"/);
    expect(() => filtered({ 'request>uri': { filter: 'regexp', regexp: '(' } })).toThrow(/bad regexp/);
  });

  describe('on the raw request line of a malformed request', () => {
    const queryFilter = { 'request>uri': { filter: 'query', actions: [{ type: 'delete', parameter: 'token' }] } };
    const malformed = (raw_line: string) => accessEntry({ request: requestInfo({ method: '', uri: '', proto: '', raw_line }) });

    it('applies a request>uri filter to the URI inside the raw line, keeping method and protocol', () => {
      const out = parse(enc(filtered(queryFilter), malformed('GET /l?a=1&token=S3CRET HTTP/1.1')));
      expect(out.request.raw_line).toBe('GET /l?a=1 HTTP/1.1');
    });

    it('applies it to a raw line without a protocol and to a URI holding blanks', () => {
      const e = filtered({ 'request>uri': { filter: 'regexp', regexp: 'secret[^ ]*', value: 'X' } });
      expect(parse(enc(e, malformed('GET /a?secret=1'))).request.raw_line).toBe('GET /a?X');
      expect(parse(enc(e, malformed('GET /a b?secret=2 HTTP/1.0'))).request.raw_line).toBe('GET /a b?X HTTP/1.0');
    });

    it('drops a raw line in which no URI can be found', () => {
      const out = parse(enc(filtered(queryFilter), malformed('GARBAGE?token=S3CRET')));
      expect('raw_line' in out.request).toBe(false);
    });

    it('drops the raw line when the filter deletes the URI', () => {
      const out = parse(enc(filtered({ 'request>uri': { filter: 'delete' } }), malformed('GET /l?token=S3CRET HTTP/1.1')));
      expect('raw_line' in out.request).toBe(false);
    });

    it('leaves the raw line alone under filters on other fields', () => {
      const out = parse(enc(filtered({ 'request>host': { filter: 'replace', value: 'h' } }), malformed('GET /l?token=S HTTP/1.1')));
      expect(out.request.raw_line).toBe('GET /l?token=S HTTP/1.1');
    });

    it('hides the token from every text format that writes the raw line', () => {
      for (const format of ['json', 'logfmt', 'clf', 'kftray', 'haproxy', 'console']) {
        const out = enc(filtered(queryFilter, { format }), malformed('GET /l?token=S3CRET HTTP/1.1'));
        expect(out ?? '', format).not.toContain('S3CRET');
      }
    });
  });
});

let proc: KflogProcess | undefined;
afterEach(async () => {
  await proc?.stop();
  proc = undefined;
});

describe('filter in a running kflog', () => {
  it('keeps a query token of a malformed request out of json, logfmt, clf and kftray files', async () => {
    const fields = { 'request>uri': { filter: 'query', actions: [{ type: 'delete', parameter: 'token' }] } };
    const formats = ['json', 'logfmt', 'clf', 'kftray'];
    const logs = Object.fromEntries(formats.map((f) => [f, { writer: { output: 'file', filename: `${f}.log` }, encoder: { format: 'filter', wrap: { format: f }, fields } }]));
    const started = await startKflog({ forwards: [{ id: 'f', listen: '127.0.0.1:0', target: { builtin: 'echo' } }], logging: { logs } });
    proc = started.proc;
    const [host, port] = started.addresses.f!.split(':');
    const socket = connect(Number(port), host);
    socket.write('GET /l?token=S3CRET&page=2 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    let response = '';
    socket.setEncoding('latin1').on('data', (d: string) => (response += d));
    await once(socket, 'close');
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    for (const f of formats) {
      const path = join(started.dir, `${f}.log`);
      await waitForLines(path, (lines) => lines.some((l) => l.includes('page=2')));
      const text = readFileSync(path, 'utf8');
      expect(text, f).not.toContain('S3CRET');
    }
  });
});
