import type { CapturedBody } from '../emit/entry.js';

/**
 * Keeps at most `max` bytes of a body while counting all of it: memory is bounded whatever the body size.
 * Decoding compressed bodies for display is the body-capture issue's concern; this keeps the wire bytes.
 */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(
    private readonly max: number,
    private readonly contentType: string | undefined,
  ) {}

  add(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.max - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    // Copy: the caller's buffer may be reused by the socket layer.
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  result(): CapturedBody {
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    const body: CapturedBody = { bytes: this.total, truncated: this.total > this.kept };
    if (this.contentType) body.content_type = this.contentType;
    const text = data.toString('utf8');
    if (Buffer.byteLength(text) === data.length && !text.includes('\uFFFD')) body.text = text;
    else body.base64 = data.toString('base64');
    return body;
  }
}
