import { isUtf8 } from 'node:buffer';
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions, type BrotliOptions } from 'node:zlib';
import type { CapturedBody } from '../core/entry.js';

type Decoder = (data: Buffer, maxOutput: number) => Buffer;

const ZLIB_PARTIAL: ZlibOptions = { finishFlush: constants.Z_SYNC_FLUSH };

function zlibOptions(maxOutput: number): ZlibOptions {
  return { finishFlush: ZLIB_PARTIAL.finishFlush, maxOutputLength: maxOutput };
}

function brotliOptions(maxOutput: number): BrotliOptions {
  return { finishFlush: constants.BROTLI_OPERATION_FLUSH, maxOutputLength: maxOutput };
}

/** "deflate" is zlib-wrapped by the RFC, raw in some servers' hands: try the one, then the other. */
function inflateEither(data: Buffer, maxOutput: number): Buffer {
  try {
    return inflateSync(data, zlibOptions(maxOutput));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw err;
    return inflateRawSync(data, zlibOptions(maxOutput));
  }
}

const DECODERS: Record<string, Decoder> = {
  gzip: (d, m) => gunzipSync(d, zlibOptions(m)),
  'x-gzip': (d, m) => gunzipSync(d, zlibOptions(m)),
  br: (d, m) => brotliDecompressSync(d, brotliOptions(m)),
  deflate: inflateEither,
};

/** The content codings kflog decodes for display; anything else is logged as the bytes on the wire. */
export function decodableCoding(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const coding = contentEncoding.trim().toLowerCase();
  return coding in DECODERS ? coding : undefined;
}

/**
 * A streaming tee for one body: add() sees every chunk on its way through, keeps at most `max` bytes of them
 * and counts all of them, so memory is bounded whatever the body size. The proxy never waits for it.
 *
 * result() is called once, when the exchange is logged: a compressed body (gzip, br, deflate) is decoded then,
 * for the log only, into at most `max` bytes — a truncated compressed prefix still decodes to what it holds.
 */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(
    private readonly max: number,
    private readonly contentType: string | undefined,
    /** A coding decodableCoding() accepted, or undefined. */
    private readonly coding: string | undefined,
  ) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.max - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    // Copy: the chunk's memory belongs to the socket layer and may be pooled.
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  /** Bytes kept so far (at most max). */
  get keptBytes(): number {
    return this.kept;
  }

  result(): CapturedBody {
    let data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    this.chunks = [];
    let truncated = this.total > this.kept;
    const body: CapturedBody = { bytes: this.total, truncated };
    if (this.contentType !== undefined) body.content_type = this.contentType;
    if (this.coding !== undefined && data.length > 0) {
      const decoded = decodeBounded(DECODERS[this.coding]!, data, this.max);
      if (decoded !== undefined) {
        data = decoded.data;
        if (decoded.cut) truncated = true;
        body.truncated = truncated;
        body.decoded_from = this.coding;
      }
    }
    if (truncated) data = data.subarray(0, completeUtf8Length(data));
    if (looksLikeText(data)) body.text = data.toString('utf8');
    else body.base64 = data.toString('base64');
    return body;
  }
}

/**
 * Decodes at most `max` bytes out of a compressed prefix. Node's one-shot decoders refuse (rather than cut) output
 * past maxOutputLength, so when the whole prefix inflates past it, a shorter prefix is decoded instead: halved
 * until it fits, then narrowed a few steps towards the largest that does. Each attempt produces at most `max`
 * bytes, so a decompression bomb costs a handful of bounded attempts, never unbounded memory.
 * undefined: the data is not what its Content-Encoding says (it is then logged as sent).
 */
function decodeBounded(decode: Decoder, data: Buffer, max: number): { data: Buffer; cut: boolean } | undefined {
  try {
    return { data: decode(data, max), cut: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return undefined;
  }
  let tooLarge = data.length;
  let fits: Buffer | undefined;
  let fitsAt = 0;
  let len = data.length >> 1;
  while (len > 0 && fits === undefined) {
    try {
      fits = decode(data.subarray(0, len), max);
      fitsAt = len;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return undefined;
      tooLarge = len;
      len >>= 1;
    }
  }
  if (fits === undefined) return { data: Buffer.alloc(0), cut: true };
  for (let step = 0; step < 4 && tooLarge - fitsAt > 1; step++) {
    const mid = (fitsAt + tooLarge) >> 1;
    try {
      fits = decode(data.subarray(0, mid), max);
      fitsAt = mid;
    } catch {
      tooLarge = mid;
    }
  }
  return { data: fits, cut: true };
}

/** Length of `b` without a UTF-8 sequence cut in half at its end (a truncated prefix must not turn text into binary). */
export function completeUtf8Length(b: Buffer): number {
  const n = b.length;
  for (let i = n - 1; i >= 0 && i >= n - 4; i--) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c < 0x80 ? 1 : (c & 0xe0) === 0xc0 ? 2 : (c & 0xf0) === 0xe0 ? 3 : (c & 0xf8) === 0xf0 ? 4 : 1;
    return i + need <= n ? n : i;
  }
  return n;
}

/** Valid UTF-8 without NUL bytes reads as text; anything else is logged as base64. */
function looksLikeText(data: Buffer): boolean {
  return isUtf8(data) && data.indexOf(0) === -1;
}
