import { describe, expect, it } from 'vitest';
import type { CapturedBody, Entry } from '../../src/core/entry.js';
import { everyFieldAccessEntry, everyFieldRequestEntry, leafPaths } from '../emit/every-field.js';
import { enc, encoder } from './fixtures.js';

const json = encoder({ format: 'json' });

/** A captured body is text or base64, never both: the fixture sets both, each variant keeps one. */
function oneForm(body: CapturedBody, form: 'text' | 'base64'): CapturedBody {
  const { text, base64, ...rest } = body;
  return form === 'text' ? { ...rest, text } : { ...rest, base64 };
}

function variant(form: 'text' | 'base64'): Entry[] {
  const request = { ...everyFieldAccessEntry.request, body: oneForm(everyFieldAccessEntry.request.body, form) };
  return [
    { ...everyFieldAccessEntry, request, resp_body: oneForm(everyFieldAccessEntry.resp_body, form) },
    { ...everyFieldRequestEntry, request },
  ];
}

describe('the json encoder with every field set', () => {
  for (const form of ['text', 'base64'] as const) {
    it(`writes every field of an access and a request entry, with ${form} bodies`, () => {
      for (const entry of variant(form)) {
        const written = JSON.parse(enc(json, entry)!) as Record<string, unknown>;
        const expected = leafPaths(entry).filter((p) => p !== 'kind');
        expect(leafPaths(written)).toEqual(expect.arrayContaining(expected));
      }
    });
  }
});
