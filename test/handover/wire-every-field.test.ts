import { describe, expect, it } from 'vitest';
import { WireReader, WireWriter } from '../../src/handover/wire.js';
import type { Entry } from '../../src/core/entry.js';
import { everyFieldAccessEntry as accessEntry, everyFieldRequestEntry as requestEntry } from '../emit/every-field.js';

function roundTrip(entries: Entry[]): Entry[] {
  const writer = new WireWriter();
  for (const e of entries) writer.write(1, e);
  const out: Entry[] = [];
  new WireReader().read(writer.take()!, (_pipe, e) => out.push(e));
  return out;
}

describe('the wire format with every field set', () => {
  it('gives back an access entry with every optional field set, deep-equal', () => {
    expect(roundTrip([accessEntry])).toStrictEqual([accessEntry]);
  });

  it('gives back a request entry with every optional field set, deep-equal', () => {
    expect(roundTrip([requestEntry])).toStrictEqual([requestEntry]);
  });

  it('gives back the access entry whole when its request went before with the request entry', () => {
    expect(roundTrip([requestEntry, accessEntry])).toStrictEqual([requestEntry, accessEntry]);
  });
});
