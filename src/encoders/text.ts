import { isUtf8 } from 'node:buffer';

/**
 * Wire strings — request line, URI, header names and values, raw_line — hold one char per byte: Node decodes them
 * as latin1. Byte-oriented formats (nginx's \xHH, HAProxy's #XX) escape those bytes as they are; text formats show
 * them as the UTF-8 the client most likely meant, and bytes that are not UTF-8 as U+FFFD (JSON, logfmt) or \xHH
 * (the formats a person reads).
 */

/** True when s has a char outside printable ASCII (0x20–0x7e): the only strings that need a slow path anywhere. */
// eslint-disable-next-line no-control-regex
export const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * The text a wire string carries, for JSON and logfmt: its bytes decoded as UTF-8, any byte that is not part of
 * valid UTF-8 written as U+FFFD — as Caddy (Go's encoding/json) and go-logfmt write it — so a stray 0xFF byte
 * can never pass for a real "ÿ".
 */
export function wireText(s: string): string {
  const bytes = wireBytes(s);
  return bytes === undefined ? s : bytes.toString('utf8');
}

/**
 * The text a wire string carries, for the text formats a person reads (kftray, rest-client): valid UTF-8
 * decoded, every other byte shown as \xHH, so nothing is lost and a stray byte is told from a real character.
 */
export function wireDisplayText(s: string): string {
  const bytes = wireBytes(s);
  if (bytes === undefined) return s;
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Length(bytes[i]!);
    if (n > 0 && i + n <= bytes.length && isUtf8(bytes.subarray(i, i + n))) {
      out += bytes.toString('utf8', i, i + n);
      i += n;
    } else {
      out += '\\x' + hex2(bytes[i]!);
      i++;
    }
  }
  return out;
}

/** The bytes of a byte string that holds some non-ASCII byte; undefined when there is nothing to decode. */
function wireBytes(s: string): Buffer | undefined {
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return undefined; // already Unicode text, not a byte string
    if (c >= 0x80) high = true;
  }
  return high ? Buffer.from(s, 'latin1') : undefined;
}

/** How many bytes a UTF-8 sequence starting with `lead` has (0: not a lead byte). */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

const HEX_UPPER = '0123456789ABCDEF';
const HEX_LOWER = '0123456789abcdef';

export function hex2(byte: number): string {
  return HEX_UPPER[byte >> 4]! + HEX_UPPER[byte & 15]!;
}

/** \uXXXX (lower-case hex, as JSON.stringify writes it). */
export function unicodeEscape(code: number): string {
  return '\\u' + HEX_LOWER[(code >> 12) & 15]! + HEX_LOWER[(code >> 8) & 15]! + HEX_LOWER[(code >> 4) & 15]! + HEX_LOWER[code & 15]!;
}
