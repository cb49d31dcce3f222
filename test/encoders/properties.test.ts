import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessEntry, CapturedBody, HeaderMap } from '../../src/core/entry.js';
import type { Encoder } from '../../src/encoders/encoder.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';
import { BIG_PIECE } from '../../src/encoders/pieces.js';
import { enc, encoder } from './fixtures.js';

/**
 * Properties over arbitrary bytes in headers, path, method, raw line and bodies: every line format writes exactly
 * one well-formed line per access entry, and no kftray block can be forged.
 */

/** A wire string: arbitrary bytes, one char per byte, as the proxy hands them over. */
const bytes = fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a).toString('latin1'));

/** Text built to hit the dangerous cases often: line breaks, separators, Trace ID lines, REST Client markers. */
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom('\n', '\r', '\r\n', '\u2028', '\u0085', '\x1b[2K', '"', '\\', '#', '{', '|', '}', ' ', '\t',
        '----------------------------------------', 'Trace ID: ', 'trace id:', '###', '# Trace ID: x', '# ----------------------------------------'),
      fc.string({ unit: 'binary', maxLength: 12 }),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''));

const wireOrHostile = fc.oneof(bytes, hostile.map((s) => Buffer.from(s, 'utf8').toString('latin1')));

const headers: fc.Arbitrary<HeaderMap> = fc.dictionary(fc.oneof(fc.constantFrom('User-Agent', 'Referer', 'Host', 'Content-Type', 'Cookie'), wireOrHostile),
  fc.array(wireOrHostile, { minLength: 1, maxLength: 3 }), { maxKeys: 6 });

const body: fc.Arbitrary<CapturedBody | undefined> = fc.option(
  fc.oneof(
    hostile.map((text) => ({ bytes: Buffer.byteLength(text), text, truncated: false, content_type: 'text/plain' })),
    fc.uint8Array({ maxLength: 64 }).map((a) => ({ bytes: a.length * 3, base64: Buffer.from(a).toString('base64'), truncated: true })),
  ),
  { nil: undefined },
);

const exchange: fc.Arbitrary<AccessEntry> = fc
  .record({
    method: wireOrHostile,
    uri: wireOrHostile,
    rawLine: fc.option(wireOrHostile, { nil: undefined }),
    reqHeaders: headers,
    respHeaders: headers,
    reqBody: body,
    respBody: body,
    status: fc.constantFrom(0, 200, 404, 502),
    error: fc.option(hostile, { nil: undefined }),
    userId: fc.oneof(fc.constant(''), wireOrHostile),
  })
  .map((x) =>
    accessEntry({
      request: requestInfo({ method: x.method, uri: x.uri, headers: x.reqHeaders, body: x.reqBody, ...(x.rawLine !== undefined ? { raw_line: x.rawLine } : {}) }),
      resp_headers: x.respHeaders,
      ...(x.respBody !== undefined ? { resp_body: x.respBody } : {}),
      status: x.status,
      user_id: x.userId,
      ...(x.error !== undefined ? { error: x.error } : {}),
    }),
  );

const RUNS = { numRuns: 400 };

/** Methods Node's parser accepts (kflog never sees others as methods: they arrive as raw lines), bar M-SEARCH. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PURGE', 'PROPFIND', 'MKCOL', 'REPORT', 'SEARCH', 'TRACE'];
const parsedExchange = fc.tuple(exchange, fc.constantFrom(...METHODS)).map(([e, method]) => ({ ...e, request: { ...e.request, method } }));

/** nginx's combined line: quotes balanced, every field where GoAccess expects it. */
const CLF = /^\S+ - \S+ \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[^"]*" \d{3} \d+ "[^"]*" "[^"]*"\n$/;
/** lnav's haproxy_log "http" pattern (src/formats/haproxy_log.json), with kflog's syslog prefix. */
const LNAV_HAPROXY =
  /^(?<timestamp>\w{3} \d{2} \d{2}:\d{2}:\d{2}) (?<logging_host>[^ ]+) (?<process_name>\w+)\[(?<pid>\d+)\]: (?<client_ip>[^:]+):(?<client_port>\d+) \[(?<accept_date>\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2}.\d{3})\] (?<frontend_name>[^ ]+)(?<ssl>~)? (?<backend_name>[^ ]+)\/(?<server_name>[^ ]+) (?<tq>-?\d+)\/(?<tw>-?\d+)\/(?<tc>-?\d+)\/(?<tr>-?\d+)\/(?<tt>\d+) (?<status_code>\d{3}|-1) (?<bytes_read>\d+) (?<captured_request_cookie>.*) (?<captured_response_cookie>.*) (?<termination_state>....) (?<actconn>\d+)\/(?<feconn>\d+)\/(?<beconn>\d+)\/(?<srv_conn>\d+)\/(?<retries>\d+) (?<srv_queue>\d+)\/(?<backend_queue>\d+) (?:\{(?<captured_request_headers>.*)\} \{(?<captured_response_headers>.*)\} )?"(?<http_method>[A-Z<>]+)(?: (?<http_url>.*?))?(?: (?<http_version>HTTP\/\d+.\d+))?"?$/;

function oneLine(out: string | null): string {
  expect(out).not.toBeNull();
  const s = out!;
  expect(s.endsWith('\n')).toBe(true);
  expect(s.indexOf('\n')).toBe(s.length - 1);
  expect(s).not.toMatch(/[\r\u2028\u2029\u0085]/);
  return s;
}

describe('every line format writes exactly one line per access entry', () => {
  const formats: Array<[string, Encoder]> = [
    ['clf combined', encoder({ format: 'clf' })],
    ['clf common', encoder({ format: 'clf', variant: 'common' })],
    ['haproxy', encoder({ format: 'haproxy' })],
    ['haproxy with captures', encoder({ format: 'haproxy', syslog_header: true, capture_request_headers: [{ name: 'User-Agent' }, { name: 'Cookie' }], capture_response_headers: [{ name: 'Content-Type' }] })],
    ['json', encoder({ format: 'json' })],
    ['logfmt', encoder({ format: 'logfmt' })],
    ['console', encoder({ format: 'console' }, { isTTY: true })],
  ];
  for (const [name, e] of formats) {
    it(`${name}: one line, no raw line breaks`, () => {
      fc.assert(fc.property(exchange, (entry) => void oneLine(enc(e, entry))), RUNS);
    });
  }

  it('clf: only printable ASCII, quotes balanced, every field in place', () => {
    const e = encoder({ format: 'clf' });
    fc.assert(
      fc.property(exchange, (entry) => {
        const line = oneLine(enc(e, entry));
        expect(line).toMatch(/^[\x20-\x7e]*\n$/);
        expect(line).toMatch(CLF);
      }),
      RUNS,
    );
  });

  // lnav's pattern wants an upper-case method (so M-SEARCH, the one Node method with a dash, is not recognised).
  it('haproxy: only printable ASCII, and lnav\'s haproxy_log pattern matches with both capture blocks', () => {
    const e = encoder({ format: 'haproxy', syslog_header: true, hostname: 'h', capture_request_headers: [{ name: 'User-Agent' }, { name: 'Host' }], capture_response_headers: [{ name: 'Content-Type' }] });
    fc.assert(
      fc.property(parsedExchange, (entry) => {
        const line = oneLine(enc(e, entry));
        expect(line).toMatch(/^[\x20-\x7e]*\n$/);
        const m = LNAV_HAPROXY.exec(line.slice(0, -1));
        expect(m).not.toBeNull();
        // braces hold exactly the configured captures (none for a request HAProxy could not parse)
        if (entry.request.raw_line === undefined) {
          expect(m!.groups!.captured_request_headers!.split('|')).toHaveLength(2);
          expect(m!.groups!.captured_response_headers!.split('|')).toHaveLength(1);
        } else expect(m!.groups!.http_method).toBe('<BADREQ>');
      }),
      RUNS,
    );
  });

  it('json: parses, and gives back body text and error exactly', () => {
    const e = encoder({ format: 'json' });
    fc.assert(
      fc.property(exchange, (entry) => {
        const out = JSON.parse(oneLine(enc(e, entry))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        expect(out.error).toBe(entry.error);
        expect(out.request.body?.text).toBe(entry.request.body?.text);
        expect(Object.keys(out.request.headers)).toHaveLength(Object.keys(entry.request.headers).length);
      }),
      RUNS,
    );
  });
});

describe('no kftray block can be forged', () => {
  for (const style of ['classic', 'rest-client'] as const) {
    it(`${style}: one separator and one Trace ID line per block, whatever the request and response hold`, () => {
      const e = encoder({ format: 'kftray', style });
      fc.assert(
        fc.property(exchange, (entry) => {
          const req = enc(e, requestEntry({ request: entry.request })) ?? '';
          const text = req + enc(e, entry)!;
          const blocks = (req === '' ? 0 : 1) + 1 + (req === '' ? 1 : 0); // a deferred request block comes with the response
          if (style === 'classic') {
            expect(text.match(/^-{40}$/gm) ?? []).toHaveLength(blocks);
            expect(text.match(/^\s*-{40}/gm) ?? []).toHaveLength(blocks);
            expect(text.match(/^\s*trace\s+id\s*:/gim) ?? []).toHaveLength(blocks);
          } else {
            expect(text.match(/^###/gm) ?? []).toHaveLength(blocks);
            expect(text.match(/^#\s*-{40}/gm) ?? []).toHaveLength(blocks);
            expect(text.match(/^#\s*trace\s+id\s*:/gim) ?? []).toHaveLength(blocks);
          }
          expect(text).not.toMatch(/[\r\u2028\u2029\u0085\x00-\x08\x0b-\x1f\x7f]/); // eslint-disable-line no-control-regex
        }),
        RUNS,
      );
    });
  }
});

/** Bodies too big to stay in the line (pieces.ts): the hostile text repeated past BIG_PIECE, or binary. */
const bigBody: fc.Arbitrary<CapturedBody> = fc.oneof(
  hostile.map((t) => (t === '' ? 'x' : t)).map((t) => t.repeat(Math.ceil((BIG_PIECE + 1) / t.length))).map((text) => ({ bytes: Buffer.byteLength(text), text, truncated: false, content_type: 'text/plain' })),
  fc.uint8Array({ minLength: BIG_PIECE, maxLength: BIG_PIECE + 64 }).map((a) => ({ bytes: a.length, base64: Buffer.from(a).toString('base64'), truncated: false })),
);
const bigExchange = fc.tuple(exchange, bigBody, bigBody).map(([e, req, resp]) => ({ ...e, request: { ...e.request, body: req }, resp_body: resp }));

describe('lines with big bodies in parts', () => {
  const withParts: Array<[string, Encoder]> = [
    ['json', encoder({ format: 'json' })],
    ['json, bodies as base64', encoder({ format: 'json', body_format: 'base64' })],
    ['logfmt', encoder({ format: 'logfmt' })],
    ['kftray', encoder({ format: 'kftray' })],
    ['filter around json', encoder({ format: 'filter', wrap: { format: 'json' }, fields: { 'request>headers>Cookie': { filter: 'delete' } } })],
  ];
  for (const [name, e] of withParts) {
    it(`${name}: encodeParts gives the bytes encode gives, in parts`, () => {
      fc.assert(
        fc.property(bigExchange, (entry) => {
          const parts = e.encodeParts!(entry);
          // A text response body is in every format's access line, as text, so a part of its own (binary may be a
          // marker; kftray may show a text body as a marker too: its request body goes with the request entry, and
          // a body that trims to nothing is <empty>).
          if (name !== 'kftray' && entry.resp_body.text !== undefined) expect(Array.isArray(parts)).toBe(true);
          expect(typeof parts === 'string' ? parts : (parts as string[]).join('')).toBe(enc(e, entry));
        }),
        { numRuns: 30 },
      );
    });
  }

  it('no format writes a NUL, whatever the entry holds (pieces.ts marks a body\'s place in a line with one)', () => {
    const all = [...withParts.map(([, e]) => e), encoder({ format: 'kftray', style: 'rest-client' }), encoder({ format: 'console' }, { isTTY: true }),
      encoder({ format: 'clf' }), encoder({ format: 'haproxy', syslog_header: true }), encoder({ format: 'store' })];
    const withNul = exchange.map((e) => ({ ...e, user_id: 'a\u0000b', request: { ...e.request, uri: '/\u0000', headers: { ...e.request.headers, 'X-Nul': ['\u0000'] } } }));
    fc.assert(
      fc.property(fc.oneof(exchange, withNul), (entry) => {
        for (const e of all) expect(enc(e, entry) ?? '').not.toContain('\u0000');
      }),
      RUNS,
    );
  });
});
