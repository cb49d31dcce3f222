import { describe, expect, it } from 'vitest';
import { schemaProblems } from '../../src/config/validate.js';
import { encoder } from './fixtures.js';

/** A config whose one log uses this encoder. */
function withEncoder(enc: Record<string, unknown>): unknown {
  return {
    forwards: [{ id: 'a', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
    logging: { logs: { l: { writer: { output: 'stdout' }, encoder: enc } } },
  };
}

const VALID: Array<Record<string, unknown>> = [
  { format: 'json', time_format: 'rfc3339_nano', time_local: true, duration_format: 'nanos', level_format: 'color', message_key: '', level_key: 'severity', time_key: 'time', name_key: 'logger', body_format: 'base64' },
  { format: 'json', time_format: '2006-01-02 15:04:05.000', duration_format: 'milli' },
  { format: 'console', color: 'never' },
  { format: 'kftray', style: 'rest-client' },
  { format: 'clf', variant: 'common', time_local: false },
  { format: 'haproxy', syslog_header: true, hostname: 'box', time_local: false, capture_request_headers: [{ name: 'Host', len: 32 }], capture_response_headers: [{ name: 'Content-Type' }] },
  { format: 'logfmt' },
  {
    format: 'filter',
    wrap: { format: 'clf' },
    fields: {
      'request>remote_ip': { filter: 'ip_mask', ipv4_cidr: 16, ipv6_cidr: 48 },
      'request>headers>Cookie': { filter: 'cookie', actions: [{ type: 'hash', name: 'sid' }, { type: 'delete', parameter: 'csrf' }] },
      'request>uri': { filter: 'query', actions: [{ type: 'replace', parameter: 'token', value: 'x' }] },
      user_id: { filter: 'regexp', regexp: '(?i)^admin', value: 'someone' },
      'request>headers>X-Secret': { filter: 'replace', value: '***' },
      'request>headers>User-Agent': { filter: 'hash' },
      'resp_headers>Server': { filter: 'delete' },
    },
  },
];

const INVALID: Array<[string, Record<string, unknown>]> = [
  ['an unknown format', { format: 'xml' }],
  ['an unknown json option', { format: 'json', colour: true }],
  ['an option of another format', { format: 'clf', syslog_header: true }],
  ['a bad clf variant', { format: 'clf', variant: 'extended' }],
  ['a capture without a name', { format: 'haproxy', capture_request_headers: [{ len: 3 }] }],
  ['a hostname with a space', { format: 'haproxy', hostname: 'a b' }],
  ['a filter without wrap', { format: 'filter', fields: {} }],
  ['an unknown field filter', { format: 'filter', wrap: { format: 'json' }, fields: { msg: { filter: 'rot13' } } }],
  ['a query action without a parameter', { format: 'filter', wrap: { format: 'json' }, fields: { 'request>uri': { filter: 'query', actions: [{ type: 'delete' }] } } }],
];

describe('encoder options in config.schema.json', () => {
  for (const enc of VALID) {
    it(`accepts ${JSON.stringify(enc).slice(0, 90)}…, and the encoder builds from it`, () => {
      expect(schemaProblems(withEncoder(enc))).toEqual([]);
      expect(() => encoder(enc as { format: string })).not.toThrow();
    });
  }
  for (const [what, enc] of INVALID) {
    it(`rejects ${what}`, () => {
      expect(schemaProblems(withEncoder(enc)).length).toBeGreaterThan(0);
    });
  }
});
