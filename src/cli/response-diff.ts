import type { AccessEntry, CapturedBody, HeaderMap } from '../core/entry.js';
import { displayText, displayWire } from '../encoders/escape.js';
import { isCredentialHeader, REDACTED } from '../encoders/redact.js';
import type { ReplayResponse } from './replay-send.js';

/** What differs between a captured response and the replay's: one line per difference, for a reader. */

/** Headers that differ from one response to the next whatever the server does: not differences. */
const ALWAYS_DIFFER = new Set(['date', 'age', 'expires']);

/** Header names by lower case, their values in order (a map may hold one name in two spellings). */
function byName(h: HeaderMap): Map<string, { name: string; values: string[] }> {
  const out = new Map<string, { name: string; values: string[] }>();
  for (const name in h) {
    const lower = name.toLowerCase();
    const had = out.get(lower);
    if (had) had.values.push(...h[name]!);
    else out.set(lower, { name, values: [...h[name]!] });
  }
  return out;
}

/** Values as shown: a credential's never (the terminal is one more place a secret would leak to). */
function shown(name: string, values: string[]): string {
  return isCredentialHeader(name) ? REDACTED : values.map(displayWire).join(', ');
}

function headerDiff(before: HeaderMap, after: HeaderMap): string[] {
  const a = byName(before);
  const b = byName(after);
  const out: string[] = [];
  for (const [lower, { name, values }] of a) {
    if (ALWAYS_DIFFER.has(lower)) continue;
    const now = b.get(lower);
    if (now === undefined) {
      out.push(`header removed: ${displayWire(name)}: ${shown(name, values)}`);
      continue;
    }
    // The store holds only REDACTED for it: whether it is there is all that can be compared.
    if (isCredentialHeader(name) && values.every((v) => v === REDACTED)) continue;
    if (values.join('\n') !== now.values.join('\n')) {
      out.push(isCredentialHeader(name) ? `header changed: ${displayWire(name)} (a credential: values not shown)`
        : `header changed: ${displayWire(name)}: ${shown(name, values)} → ${shown(name, now.values)}`);
    }
  }
  for (const [lower, { name, values }] of b) {
    if (ALWAYS_DIFFER.has(lower) || a.has(lower)) continue;
    out.push(`header added: ${displayWire(name)}: ${shown(name, values)}`);
  }
  return out;
}

function bytesOf(body: CapturedBody): Buffer {
  return body.text !== undefined ? Buffer.from(body.text, 'utf8') : Buffer.from(body.base64 ?? '', 'base64');
}

function plural(n: number): string {
  return n === 1 ? '1 byte' : n + ' bytes';
}

/** The first line of each that differs, for a text body: where to look. */
function firstDifferentLine(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const cut = (s: string | undefined): string => (s === undefined ? '(no such line)' : displayText(s.length > 200 ? s.slice(0, 200) + '…' : s));
    return [`  first at line ${i + 1}:`, `  - ${cut(a[i])}`, `  + ${cut(b[i])}`];
  }
  return [];
}

function bodyDiff(before: CapturedBody | undefined, after: CapturedBody, capturedSize: number): string[] {
  if (before === undefined) {
    return capturedSize > 0 || after.bytes > 0 ? [`body: not captured before (${plural(capturedSize)}), ${plural(after.bytes)} now: not compared`] : [];
  }
  const was = bytesOf(before);
  const now = bytesOf(after);
  // A body cut short by max_body_bytes is compared on what was kept of it.
  const comparable = before.truncated || after.truncated ? Math.min(was.length, now.length) : Math.max(was.length, now.length);
  const same = was.subarray(0, comparable).equals(now.subarray(0, comparable)) && (before.truncated || after.truncated || was.length === now.length);
  if (same && before.bytes === after.bytes) return [];
  if (same) return [`body: ${plural(before.bytes)} → ${plural(after.bytes)} (the same in the ${plural(comparable)} compared)`];
  const lines = [`body changed: ${plural(before.bytes)} → ${plural(after.bytes)}`];
  if (before.text !== undefined && after.text !== undefined) lines.push(...firstDifferentLine(before.text, after.text));
  return lines;
}

/** The differences, or none: status, headers (Date, Age, Expires ignored), body. */
export function responseDiff(captured: AccessEntry, now: ReplayResponse): string[] {
  const out: string[] = [];
  if (captured.status !== now.status) out.push(`status: ${captured.status} → ${now.status}`);
  out.push(...headerDiff(captured.resp_headers, now.headers));
  out.push(...bodyDiff(captured.resp_body, now.body, captured.size));
  return out;
}
