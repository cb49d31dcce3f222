import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accessEntry, enc, encoder, processEntry, requestInfo } from './fixtures.js';

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
});
