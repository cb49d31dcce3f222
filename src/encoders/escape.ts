/* eslint-disable no-control-regex */
import { hex2, NOT_PRINTABLE_ASCII, unicodeEscape, wireDisplayText, wireText } from './text.js';

/**
 * Escaping, one function per convention. Every function has a regex-tested fast path for the common case (printable
 * ASCII with nothing to escape) and a slow path that is allowed to allocate. All of them guarantee that the result
 * holds no CR, LF, other control character, DEL, C1 control, U+2028 or U+2029: nothing a line splitter (even Python's
 * splitlines) or a terminal could take as a line break or a command.
 */

// ---------------------------------------------------------------------------------------------------------------
// JSON

const JSON_SLOW = /["\\\x00-\x1f\x7f-\uffff]/;
/** What JSON.stringify leaves raw but a line reader or terminal could trip on. */
const JSON_EXTRA = /[\x7f-\x9f\u2028\u2029]/;
const JSON_EXTRA_ALL = /[\x7f-\x9f\u2028\u2029]/g;

function escapeCodeUnit(ch: string): string {
  return unicodeEscape(ch.charCodeAt(0));
}

function jsonSlow(s: string): string {
  const q = JSON.stringify(s); // escapes ", \, C0 and lone surrogates (well-formed JSON.stringify)
  return JSON_EXTRA.test(q) ? q.replace(JSON_EXTRA_ALL, escapeCodeUnit) : q;
}

/** A quoted JSON string for text (messages, errors, bodies). */
export function jsonText(s: string): string {
  return JSON_SLOW.test(s) ? jsonSlow(s) : '"' + s + '"';
}

/** A quoted JSON string for a wire string: its UTF-8 text, bytes that are not UTF-8 as U+FFFD (as Caddy shows them). */
export function jsonWire(s: string): string {
  return JSON_SLOW.test(s) ? jsonSlow(wireText(s)) : '"' + s + '"';
}

/**
 * A quoted JSON string for a header name. Names are tokens on the wire (node refuses others); one that is not is
 * shown byte for byte (\\xHH), never as U+FFFD, so two different names can never merge into one JSON key.
 */
export function jsonWireName(s: string): string {
  return JSON_SLOW.test(s) ? jsonSlow(wireDisplayText(s)) : '"' + s + '"';
}

// ---------------------------------------------------------------------------------------------------------------
// Byte escapes: nginx (\xHH) and HAProxy (#XX)

function byteTable(escape: (b: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = escape(b) ? 1 : 0;
  return t;
}

/** nginx's log escaping (ngx_http_log_escape): `"`, `\`, bytes below 0x20 and from 0x7f up, as \xHH. */
const NGINX_TABLE = byteTable((b) => b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x5c);
const NGINX_SLOW = /["\\\x00-\x1f\x7f-\uffff]/;

/** HAProxy's hdr_encode_map (captured headers): non-printable bytes and `"#{|}`, as #XX. */
const HAPROXY_HDR_TABLE = byteTable((b) => b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x23 || b === 0x7b || b === 0x7c || b === 0x7d);
const HAPROXY_HDR_SLOW = /["#{|}\x00-\x1f\x7f-\uffff]/;

/** HAProxy's url_encode_map (the request line): non-printable bytes, `"` and `#`, as #XX. */
const HAPROXY_URL_TABLE = byteTable((b) => b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x23);
const HAPROXY_URL_SLOW = /["#\x00-\x1f\x7f-\uffff]/;

/** Names (frontend, backend, server, host): HAProxy never has spaces there; a space would shift every field. */
const HAPROXY_NAME_TABLE = byteTable((b) => b <= 0x20 || b >= 0x7f || b === 0x22 || b === 0x23 || b === 0x2f);
const HAPROXY_NAME_SLOW = /["#/ \x00-\x1f\x7f-\uffff]/;

function escapeBytes(s: string, table: Uint8Array, prefix: string): string {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0xff) {
      if (table[c] === 0) continue;
      out += s.slice(plainFrom, i) + prefix + hex2(c);
      plainFrom = i + 1;
      continue;
    }
    // A code point beyond latin1: the string is text, not bytes; escape its UTF-8 bytes.
    const cp = s.codePointAt(i)!;
    const wide = cp > 0xffff;
    const bytes = Buffer.from(String.fromCodePoint(cp), 'utf8');
    out += s.slice(plainFrom, i);
    for (let j = 0; j < bytes.length; j++) out += table[bytes[j]!] === 1 ? prefix + hex2(bytes[j]!) : String.fromCharCode(bytes[j]!);
    if (wide) i++;
    plainFrom = i + 1;
  }
  return out + s.slice(plainFrom);
}

export function nginxEscape(s: string): string {
  return NGINX_SLOW.test(s) ? escapeBytes(s, NGINX_TABLE, '\\x') : s;
}

export function haproxyHeaderEscape(s: string): string {
  return HAPROXY_HDR_SLOW.test(s) ? escapeBytes(s, HAPROXY_HDR_TABLE, '#') : s;
}

export function haproxyUrlEscape(s: string): string {
  return HAPROXY_URL_SLOW.test(s) ? escapeBytes(s, HAPROXY_URL_TABLE, '#') : s;
}

export function haproxyNameEscape(s: string): string {
  return HAPROXY_NAME_SLOW.test(s) ? escapeBytes(s, HAPROXY_NAME_TABLE, '#') : s;
}

// ---------------------------------------------------------------------------------------------------------------
// logfmt (go-logfmt's rules: quote when empty or holding space, '=', '"' or a control; JSON escapes inside)

const LOGFMT_QUOTE = /[\x00-\x20="\x7f-\x9f\u2028\u2029\ufffd]/;

export function logfmtText(s: string): string {
  if (s.length === 0) return '""';
  return LOGFMT_QUOTE.test(s) ? jsonSlow(s) : s;
}

export function logfmtWire(s: string): string {
  if (s.length === 0) return '""';
  const t = NOT_PRINTABLE_ASCII.test(s) ? wireText(s) : s;
  return LOGFMT_QUOTE.test(t) ? jsonSlow(t) : t;
}

const LOGFMT_KEY_BAD = /[^\x21-\x7e]|[="]/g;

/** Keys: header names are HTTP tokens, but a filter or a process field could hold anything. */
export function logfmtKey(s: string): string {
  if (s.length === 0) return '_';
  return s.replace(LOGFMT_KEY_BAD, '_');
}

// ---------------------------------------------------------------------------------------------------------------
// Display text (kftray blocks, console lines): readable, control characters made visible

const DISPLAY_LINE_SLOW = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;
const DISPLAY_LINE_ALL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g;

function displayEscape(ch: string): string {
  const c = ch.charCodeAt(0);
  return c <= 0xff ? '\\x' + hex2(c) : unicodeEscape(c);
}

/** One line of display text: tabs kept, every other control character (CR and LF included) shown as \xHH. */
export function displayText(s: string): string {
  return DISPLAY_LINE_SLOW.test(s) ? s.replace(DISPLAY_LINE_ALL, displayEscape) : s;
}

/** One line of display text from a wire string. */
export function displayWire(s: string): string {
  if (!NOT_PRINTABLE_ASCII.test(s)) return s;
  return displayText(wireDisplayText(s));
}

const DISPLAY_BLOCK_ALL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/g;
const DISPLAY_BLOCK_SLOW = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/;
const CRLF_ALL = /\r\n/g;

/** Multi-line display text (a body): CRLF read as LF, LF kept, every other control character shown as \xHH. */
export function displayBlock(s: string): string {
  if (s.includes('\r')) s = s.replace(CRLF_ALL, '\n');
  return DISPLAY_BLOCK_SLOW.test(s) ? s.replace(DISPLAY_BLOCK_ALL, displayEscape) : s;
}
