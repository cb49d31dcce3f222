import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapturedBody } from '../../src/core/entry.js';
import { frameEntry, readFrames, StoreFrameError, type StoreFrameEntry } from '../../src/core/store-frame.js';
import { accessEntry, requestEntry, requestInfo } from '../helpers/entries.js';

/** Body text made to break a framing: line breaks, NULs, digits and spaces as a length line has, lone surrogates. */
const hostileText = fc
  .array(fc.oneof(fc.constantFrom('\n', '\r\n', '\u0000', '12 -1 -1\n', '{"kind":"access"}', '-1', ' ', '\ud800', '💥'), fc.string({ unit: 'binary', maxLength: 20 })), { maxLength: 12 })
  .map((parts) => parts.join(''));

/** Long enough to be framed raw as well as short enough to stay in the head. */
const hostileBody = fc.tuple(hostileText, fc.nat({ max: 3 })).map(([t, n]) => t + 'x'.repeat(n * 120));

const body: fc.Arbitrary<CapturedBody | undefined> = fc.option(
  fc.oneof(
    hostileBody.map((text) => ({ bytes: text.length, text, truncated: false, content_type: 'text/plain' })),
    fc.uint8Array({ maxLength: 32 }).map((a) => ({ bytes: a.length, base64: Buffer.from(a).toString('base64'), truncated: true })),
  ),
  { nil: undefined },
);

const entry: fc.Arbitrary<StoreFrameEntry> = fc
  .record({ access: fc.boolean(), uri: hostileText, req: body, resp: body })
  .map(({ access, uri, req, resp }) => {
    const request = requestInfo({ uri, ...(req !== undefined ? { body: req } : {}) });
    return access ? accessEntry({ request, ...(resp !== undefined ? { resp_body: resp } : {}) }) : requestEntry({ request });
  });

/** What reading back must give: the entry as JSON keeps it (lone surrogates aside, which JSON keeps too). */
const asJson = (e: StoreFrameEntry): unknown => JSON.parse(JSON.stringify(e));

describe('store frames', () => {
  it('give back every entry of a batch of frames, whatever their bodies hold', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (entries) => {
        expect(readFrames(entries.map(frameEntry).join('')).map(asJson)).toEqual(entries.map(asJson));
      }),
      { numRuns: 300 },
    );
  });

  it('carry a text body raw after the head, so its quotes are not escaped', () => {
    const text = JSON.stringify({ users: Array.from({ length: 20 }, (_, id) => ({ id, name: 'John' })) });
    const frame = frameEntry(accessEntry({ resp_body: { bytes: text.length, text, truncated: false } }));
    expect(frame.endsWith(text + '\n')).toBe(true);
    expect(frame).not.toContain('\\"name\\"');
  });

  it('keep a body holding a NUL in the head, escaped, so no frame holds a raw NUL', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(frameEntry(e)).not.toContain('\u0000');
      }),
      { numRuns: 300 },
    );
  });

  it('refuse a batch cut inside a frame, or text that is no frame, naming where', () => {
    const text = 'hello '.repeat(100);
    const frame = frameEntry(accessEntry({ resp_body: { bytes: text.length, text, truncated: false } }));
    expect(() => readFrames(frame + frame.slice(0, -3))).toThrow(StoreFrameError);
    expect(() => readFrames('{"kind":"access"}\n')).toThrow(/not a store frame's length line at 0/);
  });
});
