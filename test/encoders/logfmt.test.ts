import { describe, expect, it } from 'vitest';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const logfmt = encoder({ format: 'logfmt' });

/** A small logfmt reader (go-logfmt rules): bare values, or JSON-quoted ones. */
function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
  return out;
}

describe('logfmt', () => {
  it('writes the access entry as flattened key=value pairs', () => {
    const f = parseLogfmt(enc(logfmt, accessEntry())!);
    expect(f).toMatchObject({ level: 'info', msg: 'handled request', 'request.method': 'GET', 'request.uri': '/api/users', status: '200',
      'request.headers.User-Agent': 'curl/7.88.1', 'forward.id': 'users', 'timings.tt': '1', termination_state: '----' });
    expect(f.ts).toBe('2026-11-21T08:46:39.123456Z');
  });

  it('writes request and process entries too', () => {
    expect(parseLogfmt(enc(logfmt, requestEntry())!).msg).toBe('received request');
    expect(parseLogfmt(enc(logfmt, processEntry({ fields: { count: 3, nested: { a: 1 } } }))!)).toMatchObject({ count: '3', nested: '{"a":1}' });
  });

  it('joins repeated header values and redacts credentials', () => {
    const request = requestInfo({ headers: { Accept: ['a', 'b'], Cookie: ['sid=1'] } });
    const f = parseLogfmt(enc(logfmt, accessEntry({ request }))!);
    expect(f['request.headers.Accept']).toBe('a, b');
    expect(f['request.headers.Cookie']).toBe('REDACTED');
  });

  it('keeps hostile values on one line and reads them back unchanged', () => {
    const ua = 'x" y=z\nlevel=error msg=forged\u2028';
    const f = parseLogfmt(enc(logfmt, accessEntry({ request: requestInfo({ headers: { 'User-Agent': [ua] } }) }))!);
    expect(f['request.headers.User-Agent']).toBe(ua);
    expect(f.level).toBe('info');
    expect(enc(logfmt, accessEntry({ request: requestInfo({ headers: { 'User-Agent': [ua] } }) }))!.split('\n')).toHaveLength(2);
  });
});
