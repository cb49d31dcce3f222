import { useEffect, useMemo } from 'preact/hooks';
import type { ApiHeaderMap as HeaderMap, StoredBodyMeta as BodyMeta } from '../../src/admin/api-types.js';

/** Bytes shown in a binary body's hex preview: enough to recognise a format by its first bytes. */
const HEX_PREVIEW = 512;

function headerValue(headers: HeaderMap | null, name: string): string | undefined {
  if (headers === null) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key]?.[0];
}

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** offset, 16 bytes as hex, the same as text (. for what is not printable ASCII). */
export function hexLines(bytes: Uint8Array, max = HEX_PREVIEW): string {
  const lines: string[] = [];
  for (let at = 0; at < Math.min(bytes.length, max); at += 16) {
    const chunk = [...bytes.subarray(at, Math.min(at + 16, max))];
    const hex = chunk.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = chunk.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

function isJsonType(type: string): boolean {
  return /^application\/(.+\+)?json\b/i.test(type) || /\bjson\b/i.test(type);
}

/** The text pretty-printed when it is JSON (by its type, or by its look when the type says nothing). */
function pretty(text: string, type: string): string {
  const looks = /^\s*[[{]/.test(text);
  if (!isJsonType(type) && !(type === '' && looks)) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** An image from the captured bytes, as a blob: URL revoked when the pane shows something else. */
function CapturedImage(props: { bytes: BlobPart; type: string }) {
  const url = useMemo(() => URL.createObjectURL(new Blob([props.bytes], { type: props.type })), [props.bytes, props.type]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return <img class="body-image" src={url} alt={`captured ${props.type}`} />;
}

/**
 * A captured body as the detail pane shows it: JSON pretty-printed, other text raw, images (image/* only) drawn
 * from the captured bytes, anything else binary as a hex preview; what was not kept is said. Every piece is a text
 * node or an attribute Preact sets: nothing here is parsed as HTML.
 */
export function BodyView(props: { body: string | null; encoding: string | null; meta: BodyMeta | null; headers: HeaderMap | null; label: string }) {
  const { body, encoding, meta } = props;
  const type = meta?.content_type ?? headerValue(props.headers, 'content-type') ?? '';
  const notes: string[] = [];
  if (meta?.truncated) notes.push(`truncated: ${meta.bytes} bytes on the wire, only the first part was kept (max_body_bytes)`);
  if (meta?.decoded_from) notes.push(`shown decoded from ${meta.decoded_from}`);
  let view;
  if (body === null) {
    view = <p class="muted">{meta === null ? 'no body captured (or none sent)' : 'empty'}</p>;
  } else if (/^image\//i.test(type) && !meta?.truncated) {
    view = <CapturedImage bytes={encoding === 'base64' ? bytesOf(body) : body} type={type.split(';')[0]!.trim()} />;
  } else if (encoding === 'base64') {
    const bytes = bytesOf(body);
    notes.push(`binary (${type || 'no content type'}), ${bytes.length} bytes kept` + (bytes.length > HEX_PREVIEW ? `; the first ${HEX_PREVIEW} shown` : ''));
    view = <pre class="body hex">{hexLines(bytes)}</pre>;
  } else {
    view = <pre class="body" data-body={props.label}>{pretty(body, type)}</pre>;
  }
  return (
    <div class="body-view">
      {notes.map((n) => <p class="note">{n}</p>)}
      {view}
    </div>
  );
}
