import { describe, expect, it } from 'vitest';
import {
  displayBlock,
  displayText,
  displayWire,
  haproxyHeaderEscape,
  haproxyUrlEscape,
  jsonText,
  jsonWire,
  logfmtKey,
  logfmtText,
  logfmtWire,
  nginxEscape,
} from '../../src/encoders/escape.js';
import { wireDisplayText, wireText } from '../../src/encoders/text.js';

/** A byte string as the proxy hands it over: one char per byte (latin1). */
const wire = (bytes: number[] | string): string => (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)).toString('latin1');

describe('nginx escaping', () => {
  it('leaves printable ASCII alone, spaces included', () => {
    expect(nginxEscape('GET /a?b=c d HTTP/1.1')).toBe('GET /a?b=c d HTTP/1.1');
  });

  it('escapes quote, backslash, control bytes and bytes from 0x7f as upper-case \\xHH', () => {
    expect(nginxEscape('a"b\\c\r\n\x00\x1f\x7f')).toBe('a\\x22b\\x5Cc\\x0D\\x0A\\x00\\x1F\\x7F');
  });

  it('escapes each byte of a UTF-8 wire string', () => {
    expect(nginxEscape(wire('héllo'))).toBe('h\\xC3\\xA9llo');
  });

  it('escapes text beyond latin1 by its UTF-8 bytes, surrogate pairs included', () => {
    expect(nginxEscape('€😀')).toBe('\\xE2\\x82\\xAC\\xF0\\x9F\\x98\\x80');
  });
});

describe('haproxy escaping', () => {
  it('escapes captured headers with hdr_encode_map: controls, 0x7f+, and "#{|}', () => {
    expect(haproxyHeaderEscape('a"b#c{d|e}f\tg\x7f')).toBe('a#22b#23c#7Bd#7Ce#7Df#09g#7F');
  });

  it('escapes the request line with url_encode_map: controls, 0x7f+, " and # but not braces or spaces', () => {
    expect(haproxyUrlEscape('GET /a{b}|"c"#d HTTP/1.1')).toBe('GET /a{b}|#22c#22#23d HTTP/1.1');
    expect(haproxyUrlEscape(wire([0x2f, 0xc3, 0xa9, 0x0d, 0x0a]))).toBe('/#C3#A9#0D#0A');
  });
});

describe('json strings', () => {
  it('quotes plain ASCII without touching it', () => {
    expect(jsonText('/api/users?a=1')).toBe('"/api/users?a=1"');
  });

  it('escapes what JSON requires and what a line splitter or terminal would trip on', () => {
    const s = 'a"b\\c\n\r\t\x00\x7f\x85\u2028\u2029';
    const q = jsonText(s);
    expect(JSON.parse(q)).toBe(s);
    expect(q).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/); // eslint-disable-line no-control-regex
  });

  it('writes lone surrogates as escapes so the output stays valid UTF-8', () => {
    expect(jsonText('a\ud800b')).toBe('"a\\ud800b"');
  });

  it('shows a UTF-8 wire string as the text it encodes, and bytes that are not UTF-8 as U+FFFD, as Caddy does', () => {
    expect(JSON.parse(jsonWire(wire('Grüße 😀')))).toBe('Grüße 😀');
    expect(JSON.parse(jsonWire(wire([0x61, 0xff, 0xfe])))).toBe('a\ufffd\ufffd');
    expect(JSON.parse(jsonWire(wire('ÿþ')))).toBe('ÿþ');
  });
});

describe('wire text', () => {
  it('decodes valid UTF-8 byte strings and writes bytes that are not UTF-8 as U+FFFD', () => {
    expect(wireText(wire('ça'))).toBe('ça');
    expect(wireText('plain')).toBe('plain');
    expect(wireText(wire([0xe9, 0x74, 0xe9]))).toBe('\ufffdt\ufffd');
    expect(wireText('already ☃')).toBe('already ☃');
  });

  it('shows, for reading, valid UTF-8 as text and every other byte as \\xHH', () => {
    expect(wireDisplayText(wire([0xff, 0xfe]))).toBe('\\xFF\\xFE');
    expect(wireDisplayText(wire('ÿþ'))).toBe('ÿþ');
    expect(wireDisplayText(Buffer.concat([Buffer.from('café '), Buffer.from([0xe2, 0x82]), Buffer.from(' ☃')]).toString('latin1')))
      .toBe('café \\xE2\\x82 ☃');
    expect(wireDisplayText(wire([0xc0, 0xaf]))).toBe('\\xC0\\xAF'); // an overlong '/' is not UTF-8
    expect(wireDisplayText('already ☃')).toBe('already ☃');
  });
});

describe('logfmt values', () => {
  it('leaves bare words bare and quotes empty values, spaces, equals and quotes', () => {
    expect(logfmtText('GET')).toBe('GET');
    expect(logfmtText('')).toBe('""');
    expect(logfmtText('a b')).toBe('"a b"');
    expect(logfmtText('a=b')).toBe('"a=b"');
    expect(logfmtText('a"b')).toBe('"a\\"b"');
  });

  it('quotes and escapes control characters so a value never breaks the line', () => {
    expect(logfmtText('a\nb')).toBe('"a\\nb"');
    expect(logfmtWire(wire('x\u2028y'))).toBe('"x\\u2028y"');
  });

  it('turns characters a key cannot hold into underscores', () => {
    expect(logfmtKey('a b=c"d')).toBe('a_b_c_d');
    expect(logfmtKey('')).toBe('_');
  });
});

describe('display text', () => {
  it('shows control characters of one-line text as \\xHH and keeps tabs', () => {
    expect(displayText('a\tb\r\nc\x1b[31m')).toBe('a\tb\\x0D\\x0Ac\\x1B[31m');
    expect(displayText('x\u2028y\u0085')).toBe('x\\u2028y\\x85');
  });

  it('decodes wire strings before showing them', () => {
    expect(displayWire(wire('naïve'))).toBe('naïve');
  });

  it('keeps the line breaks of a block, reads CRLF as LF and shows a lone CR', () => {
    expect(displayBlock('a\r\nb\nc\rd\x0be')).toBe('a\nb\nc\\x0Dd\\x0Be');
  });
});
