import { isUtf8 } from 'node:buffer';
import { brotliDecompressSync, constants as z, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { CapturedBody, HeaderMap } from '../core/entry.js';
import { headerValues } from './headers.js';
import { prettyJson } from './json-pretty.js';

/** Decoded bodies larger than this are not shown whole (a small compressed body can expand enormously). */
export const MAX_DECODED_BYTES = 1 << 20;

/** What a body looks like to a reader: text (possibly cut), or a one-line marker. */
export interface BodyView {
  /** Text to show (not yet escaped for display), or undefined when only `marker` is shown. */
  text?: string;
  /** A one-line note: `<empty>`, `<binary: …>`, `<truncated: …>`, `<not captured: …>`. */
  marker?: string;
}

const EMPTY: BodyView = { marker: '<empty>' };

function plural(n: number): string {
  return n === 1 ? '1 byte' : n + ' bytes';
}

/**
 * How a body reads: decompressed when the proxy kept it compressed, JSON pretty-printed with 2 spaces, binary and
 * truncated bodies summarised. `wireBytes` is what the exchange counted when no body was captured.
 */
export function viewBody(body: CapturedBody | undefined, headers: HeaderMap | undefined, wireBytes: number): BodyView {
  if (body === undefined) return wireBytes > 0 ? { marker: '<not captured: ' + plural(wireBytes) + '>' } : EMPTY;
  if (body.bytes === 0 && !body.text && !body.base64) return EMPTY;

  const contentType = body.content_type ?? headerValues(headers, 'Content-Type')?.[0] ?? '';
  let kept: Buffer | undefined;
  let text = body.text;
  let decodedFrom = body.decoded_from;
  let decodeNote = '';

  const encoding = decodedFrom === undefined ? contentEncoding(headers) : [];
  if (encoding.length > 0) {
    kept = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(body.base64 ?? '', 'base64');
    const decoded = decompress(kept, encoding);
    if (decoded.ok) {
      kept = decoded.bytes;
      text = undefined;
      decodedFrom = encoding.join(', ');
    } else {
      decodeNote = decoded.reason;
    }
  }

  if (decodeNote !== '') {
    // The body says it is compressed and is not decodable: its bytes are not text, whatever they happen to be.
    text = undefined;
  } else if (text === undefined) {
    kept ??= Buffer.from(body.base64 ?? '', 'base64');
    text = utf8Text(kept, body.truncated);
  }

  const keptBytes = kept?.length ?? Buffer.byteLength(text ?? '', 'utf8');
  const truncatedNote = body.truncated
    ? '<truncated: ' + plural(keptBytes) + (decodedFrom ? ' decoded from ' + decodedFrom + ',' : '') + ' of ' + plural(body.bytes) + ' shown>'
    : undefined;

  if (text === undefined) {
    const parts = ['<binary: ' + plural(body.bytes)];
    if (contentType) parts.push(contentType);
    if (decodedFrom) parts.push(decodedFrom + '-encoded');
    if (decodeNote) parts.push(decodeNote);
    if (body.truncated) parts.push(plural(keptBytes) + ' captured');
    return { marker: parts.join(', ') + '>' };
  }
  if (text.length === 0) return body.truncated && truncatedNote ? { marker: truncatedNote } : EMPTY;

  if (!body.truncated && looksLikeJson(contentType, text)) {
    const pretty = prettyJson(text);
    if (pretty !== undefined) return { text: pretty };
  }
  // kftray trims the end of text bodies; a truncated body keeps its tail so the cut is visible.
  const shown = body.truncated ? text : text.trimEnd();
  return truncatedNote ? { text: shown, marker: truncatedNote } : { text: shown };
}

function looksLikeJson(contentType: string, text: string): boolean {
  if (contentType.includes('json')) return true;
  const c = text.charCodeAt(firstNonSpace(text));
  return c === 0x7b || c === 0x5b; // { [
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t')) i++;
  return i;
}

/** Content-Encoding tokens in the order they must be undone (last applied first); [] for identity. */
function contentEncoding(headers: HeaderMap | undefined): string[] {
  const values = headerValues(headers, 'Content-Encoding');
  if (values === undefined) return [];
  const tokens: string[] = [];
  for (const v of values) {
    for (const t of v.split(',')) {
      const token = t.trim().toLowerCase();
      if (token && token !== 'identity') tokens.push(token);
    }
  }
  return tokens.reverse();
}

type Decoded = { ok: true; bytes: Buffer } | { ok: false; reason: string };

function decompress(data: Buffer, encodings: string[]): Decoded {
  let cur = data;
  for (const enc of encodings) {
    try {
      switch (enc) {
        case 'gzip':
        case 'x-gzip':
          // SYNC_FLUSH: a truncated capture still yields what it holds instead of "unexpected end of file".
          cur = gunzipSync(cur, { finishFlush: z.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_BYTES });
          break;
        case 'br':
          cur = brotliDecompressSync(cur, { finishFlush: z.BROTLI_OPERATION_FLUSH, maxOutputLength: MAX_DECODED_BYTES });
          break;
        case 'deflate':
          // HTTP's deflate is zlib-wrapped, but some servers send raw deflate.
          try {
            cur = inflateSync(cur, { finishFlush: z.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_BYTES });
          } catch {
            cur = inflateRawSync(cur, { finishFlush: z.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_BYTES });
          }
          break;
        default:
          return { ok: false, reason: enc + '-encoded' };
      }
    } catch (err) {
      const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      return { ok: false, reason: tooBig ? enc + '-encoded, over ' + plural(MAX_DECODED_BYTES) + ' decoded' : enc + '-encoded, undecodable' };
    }
  }
  return { ok: true, bytes: cur };
}

/**
 * The bytes as text when they are UTF-8 without NULs; a cut capture may end inside a multi-byte character, which
 * does not make it binary.
 */
function utf8Text(bytes: Buffer, truncated: boolean): string | undefined {
  let end = bytes.length;
  if (!isUtf8(bytes)) {
    if (!truncated) return undefined;
    let ok = false;
    for (let k = 1; k <= 3 && end - k >= 0; k++) {
      if (isUtf8(bytes.subarray(0, end - k))) {
        end -= k;
        ok = true;
        break;
      }
    }
    if (!ok) return undefined;
  }
  const view = end === bytes.length ? bytes : bytes.subarray(0, end);
  if (view.includes(0)) return undefined;
  return view.toString('utf8');
}
