import { isUtf8 } from 'node:buffer';

/**
 * Wire strings — request line, URI, header names and values, raw_line — hold one char per byte: Node decodes them
 * as latin1. Byte-oriented formats (nginx's \xHH, HAProxy's #XX) escape those bytes as they are; text formats show
 * them as the UTF-8 the client most likely meant.
 */

/** True when s has a char outside printable ASCII (0x20–0x7e): the only strings that need a slow path anywhere. */
// eslint-disable-next-line no-control-regex
export const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * The text a wire string carries: its bytes decoded as UTF-8 when they are valid UTF-8, else unchanged (each byte
 * then reads as its latin1 character, which keeps every byte visible and distinct).
 */
export function wireText(s: string): string {
  let high = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return s; // already Unicode text, not a byte string
    if (c >= 0x80) high = true;
  }
  if (!high) return s;
  const bytes = Buffer.from(s, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : s;
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
