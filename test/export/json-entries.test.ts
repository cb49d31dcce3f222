import { describe, expect, it } from 'vitest';
import type { AccessEntry, Entry } from '../../src/core/entry.js';
import { entryOfJsonLine } from '../../src/export/json-entries.js';
import { everyFieldAccessEntry, everyFieldRequestEntry } from '../emit/every-field.js';
import { accessEntry, processEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder, referenceLines } from '../encoders/fixtures.js';

const json = encoder({ format: 'json' });

/** The json line of `entry`, that line read back, and the read entry's json line. */
function roundTrip(entry: Entry): { line: string; parsed: Entry | undefined; again: string | null } {
  const line = enc(json, entry)!;
  const parsed = entryOfJsonLine(line.trimEnd());
  return { line, parsed, again: parsed === undefined ? null : enc(json, parsed) };
}

describe('a kflog JSON line read back as its entry', () => {
  it('a fully populated access entry encodes again to the same bytes', () => {
    const { line, parsed, again } = roundTrip(everyFieldAccessEntry);
    expect(parsed?.kind).toBe('access');
    expect(again).toBe(line);
  });

  it('a fully populated request entry encodes again to the same bytes', () => {
    const { line, parsed, again } = roundTrip(everyFieldRequestEntry);
    expect(parsed?.kind).toBe('request');
    expect(again).toBe(line);
  });

  it('bodies kept as base64 stay base64', () => {
    const { text: _text, ...binary } = everyFieldAccessEntry.resp_body;
    const { line, parsed, again } = roundTrip({ ...everyFieldAccessEntry, resp_body: binary });
    expect((parsed as AccessEntry).resp_body).toEqual(binary);
    expect(again).toBe(line);
  });

  it('the times are the entry\'s epoch milliseconds, to the microsecond the line has', () => {
    const parsed = entryOfJsonLine(enc(json, everyFieldAccessEntry)!) as AccessEntry;
    expect(parsed.ts).toBeCloseTo(everyFieldAccessEntry.ts, 3);
    expect(parsed.start).toBeCloseTo(everyFieldAccessEntry.start, 3);
    expect(parsed.duration).toBe(everyFieldAccessEntry.duration);
  });

  it('wire strings (URI, headers, user) come back as the bytes the client sent, so byte formats escape them as live', () => {
    // One char per byte, as node decodes a request: "café" and "€" in UTF-8.
    const uri = '/caf\xc3\xa9?q=\xe2\x82\xac';
    const entry = accessEntry({ request: requestInfo({ uri, headers: { 'X-Name': ['Ren\xc3\xa9e'] } }), user_id: 'j\xc3\xb6rg' });
    const { line, parsed, again } = roundTrip(entry);
    expect(line).toContain('"uri":"/café?q=€"');
    const back = parsed as AccessEntry;
    expect([back.request.uri, back.request.headers['X-Name'], back.user_id]).toEqual([uri, ['Ren\xc3\xa9e'], 'j\xc3\xb6rg']);
    expect(again).toBe(line);
    const clf = encoder({ format: 'clf' });
    expect(enc(clf, back)).toBe(enc(clf, entry));
  });

  it('a header named __proto__ stays a header', () => {
    const entry = accessEntry({ resp_headers: JSON.parse('{"__proto__":["x"]}') as AccessEntry['resp_headers'] });
    const { line, again } = roundTrip(entry);
    expect(line).toContain('"resp_headers":{"__proto__":["x"]}');
    expect(again).toBe(line);
  });

  it('one of kflog\'s own messages encodes again to the same bytes', () => {
    const { line, parsed, again } = roundTrip(processEntry({ fields: { forward: 'users', address: '127.0.0.1:8080', retries: 3, ok: true, nested: { a: [1, 'b'] } } }));
    expect(parsed?.kind).toBe('process');
    expect(again).toBe(line);
  });

  it('reads epoch milliseconds (time_format unix_milli_float) as the same instant', () => {
    const ms = encoder({ format: 'json', time_format: 'unix_milli_float' });
    const parsed = entryOfJsonLine(enc(ms, everyFieldAccessEntry)!) as AccessEntry;
    expect(parsed.ts).toBe(everyFieldAccessEntry.ts);
    expect(parsed.start).toBe(everyFieldAccessEntry.start);
  });

  it('Caddy\'s own access and error lines are not kflog entries', () => {
    const lines = [...referenceLines('caddy.log'), ...referenceLines('caddy-error.log')];
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map(entryOfJsonLine)).toEqual(lines.map(() => undefined));
  });

  it('text that is not JSON, JSON that is not an object, and an entry with a field of the wrong type are not kflog entries', () => {
    const line = enc(json, everyFieldAccessEntry)!;
    for (const text of ['GET /api/users 200', '[1,2]', 'null', line.replace('"status":502', '"status":"502"'), line.slice(0, -5)]) {
      expect(entryOfJsonLine(text), text.slice(0, 60)).toBeUndefined();
    }
  });
});
