import { describe, expect, it } from 'vitest';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const json = encoder({ format: 'json' });
const parse = (s: string | null): Record<string, any> => JSON.parse(s!); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('json', () => {
  it('writes one line per entry, request entries included', () => {
    for (const entry of [requestEntry(), accessEntry(), processEntry()]) {
      const out = enc(json, entry)!;
      expect(out.endsWith('}\n')).toBe(true);
      expect(out.indexOf('\n')).toBe(out.length - 1);
    }
    expect(parse(enc(json, requestEntry())).msg).toBe('received request');
  });

  it("puts kflog's own fields after Caddy's", () => {
    const keys = Object.keys(parse(enc(json, accessEntry({ error: 'x', tunnel: { bytes_in: 1, bytes_out: 2 } }))));
    expect(keys).toEqual(['level', 'ts', 'logger', 'msg', 'request', 'bytes_read', 'user_id', 'duration', 'size', 'status', 'resp_headers',
      'trace_id', 'forward', 'upstream', 'timings', 'termination_state', 'conn', 'start', 'bytes_sent', 'error', 'tunnel']);
  });

  it('writes process entries with their fields after msg, whatever their values', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const out = parse(enc(json, processEntry({ fields: { n: 1n, err: new Error('boom'), nan: NaN, skip: undefined, cyclic, when: new Date(0) } })));
    expect(out).toMatchObject({ logger: 'kflog', msg: 'listening', n: 1, err: 'boom', nan: 'NaN', cyclic: { a: 1, self: '[circular]' }, when: '1970-01-01T00:00:00.000Z' });
    expect('skip' in out).toBe(false);
  });

  it('redacts credential headers as ["REDACTED"] unless the log opts in', () => {
    const request = requestInfo({ headers: { Authorization: ['Bearer s3cret'], 'proxy-authorization': ['x'], Cookie: ['a=1'] } });
    const entry = accessEntry({ request, resp_headers: { 'Set-Cookie': ['sid=1', 'b=2'] } });
    const out = parse(enc(json, entry));
    expect(out.request.headers).toEqual({ Authorization: ['REDACTED'], 'proxy-authorization': ['REDACTED'], Cookie: ['REDACTED'] });
    expect(out.resp_headers['Set-Cookie']).toEqual(['REDACTED']);
    expect(parse(enc(encoder({ format: 'json' }, { logCredentials: true }), entry)).resp_headers['Set-Cookie']).toEqual(['sid=1', 'b=2']);
  });

  it('round-trips hostile header, path and body values', () => {
    const ua = Buffer.from('"\\\n\r\t\u2028 é 😀', 'utf8').toString('latin1');
    const request = requestInfo({ uri: '/"x"', headers: { 'User-Agent': [ua] }, body: { bytes: 3, text: 'a\u0000"', truncated: false } });
    const out = parse(enc(json, accessEntry({ request })));
    expect(out.request.headers['User-Agent']).toEqual(['"\\\n\r\t\u2028 é 😀']);
    expect(out.request.uri).toBe('/"x"');
    expect(out.request.body).toEqual({ bytes: 3, text: 'a\u0000"', truncated: false });
  });

  it('writes bodies as base64 when body_format says so', () => {
    const request = requestInfo({ body: { bytes: 2, text: 'hé', truncated: false } });
    const out = parse(enc(encoder({ format: 'json', body_format: 'base64' }), accessEntry({ request })));
    expect(out.request.body.base64).toBe(Buffer.from('hé').toString('base64'));
  });

  it('renames and removes the level, time, logger and message keys', () => {
    const out = parse(enc(encoder({ format: 'json', level_key: 'severity', time_key: '', name_key: 'log', message_key: 'message' }), accessEntry()));
    expect(Object.keys(out).slice(0, 4)).toEqual(['severity', 'log', 'message', 'request']);
  });

  it('formats the level as lower, upper or colour', () => {
    expect(parse(enc(encoder({ format: 'json', level_format: 'upper' }), accessEntry())).level).toBe('INFO');
    expect(parse(enc(encoder({ format: 'json', level_format: 'color' }), accessEntry({ level: 'error' }))).level).toBe('\x1b[31mERROR\x1b[0m');
  });

  const T = Date.UTC(2026, 10, 21, 8, 46, 39, 123) + 0.456;
  const times: Array<[string, unknown]> = [
    ['unix_seconds_float', 1795250799.123456],
    ['unix_milli_float', 1795250799123.456],
    ['unix_nano', 1795250799123456000],
    ['iso8601', '2026-11-21T08:46:39.123Z'],
    ['rfc3339', '2026-11-21T08:46:39Z'],
    ['rfc3339_nano', '2026-11-21T08:46:39.123456Z'],
    ['wall', '2026/11/21 08:46:39'],
    ['wall_milli', '2026/11/21 08:46:39.123'],
    ['wall_nano', '2026/11/21 08:46:39.123456000'],
    ['common_log', '21/Nov/2026:08:46:39 +0000'],
    ['Jan _2 15:04:05.000000', 'Nov 21 08:46:39.123456'],
  ];
  for (const [format, want] of times) {
    it(`writes time_format ${format}`, () => {
      const out = enc(encoder({ format: 'json', time_format: format }), accessEntry({ ts: T }))!;
      expect(parse(out).ts).toBe(want);
    });
  }

  it('always writes ts with a fraction, which GoAccess\'s CADDY format needs', () => {
    expect(enc(json, accessEntry({ ts: Date.UTC(2026, 0, 1) }))).toContain('"ts":1767225600.0,');
    expect(enc(json, accessEntry({ ts: Date.UTC(2026, 0, 1) + 120.5 }))).toContain('"ts":1767225600.1205,');
  });

  it('writes durations to the nanosecond without float noise, as Caddy does', () => {
    expect(enc(json, accessEntry({ duration: 0.020373210999999856 }))).toContain('"duration":0.020373211,');
    expect(enc(json, accessEntry({ duration: 3 }))).toContain('"duration":3,');
    expect(enc(encoder({ format: 'json', duration_format: 'ms' }), accessEntry({ duration: 0.020373210999999856 }))).toContain('"duration":20.373211,');
  });

  it('writes unix_nano as an exact integer', () => {
    expect(enc(encoder({ format: 'json', time_format: 'unix_nano' }), accessEntry({ ts: T }))).toContain('"ts":1795250799123456000,');
  });

  const durations: Array<[string, unknown]> = [
    ['s', 0.00140379],
    ['ms', 1.40379],
    ['ns', 1403790],
    ['string', '1.40379ms'],
  ];
  for (const [format, want] of durations) {
    it(`writes duration_format ${format}`, () => {
      const got = parse(enc(encoder({ format: 'json', duration_format: format }), accessEntry())).duration;
      if (typeof want === 'number') expect(got).toBeCloseTo(want, 9);
      else expect(got).toBe(want);
    });
  }
});
