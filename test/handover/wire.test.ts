import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireReader, WireWriter } from '../../src/handover/wire.js';
import type { AccessEntry, CapturedBody, Entry, HeaderMap, RequestEntry } from '../../src/core/entry.js';
import { accessEntry, processEntry, requestEntry, requestInfo } from '../helpers/entries.js';

/** Any UTF-16 text, lone surrogates included, plus the one-char-a-byte strings the HTTP parser hands over. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }),
  fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a).toString('latin1')),
  fc.string({ unit: 'grapheme', minLength: 60, maxLength: 300 }),
);

const headers: fc.Arbitrary<HeaderMap> = fc.dictionary(text, fc.array(text, { minLength: 1, maxLength: 3 }), { maxKeys: 5 });

const body: fc.Arbitrary<CapturedBody> = fc.record(
  {
    bytes: fc.nat(),
    text,
    base64: fc.base64String(),
    truncated: fc.boolean(),
    content_type: text,
    decoded_from: fc.constantFrom('gzip', 'br', 'deflate'),
  },
  { requiredKeys: ['bytes', 'truncated'] },
);

const num = fc.oneof(fc.integer({ min: -1, max: 1e9 }), fc.double({ noNaN: true }));

/** An exchange: its request entry and its access entry sharing one request object, as the proxy emits them. */
const exchange: fc.Arbitrary<[RequestEntry, AccessEntry, CapturedBody | undefined]> = fc
  .record({
    method: text, uri: text, host: text, headers, resp_headers: headers, status: fc.integer({ min: 0, max: 599 }),
    trace: text, ts: num, duration: num, size: num, error: fc.option(text, { nil: undefined }),
    resp_body: fc.option(body, { nil: undefined }), req_body: fc.option(body, { nil: undefined }),
    raw_line: fc.option(text, { nil: undefined }), replay_of: fc.option(fc.uuid(), { nil: undefined }), pod: fc.option(text, { nil: undefined }),
    tunnel: fc.option(fc.record({ bytes_in: fc.nat(), bytes_out: fc.nat() }), { nil: undefined }),
    level: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const, 'error' as const),
  })
  .map((x) => {
    const request = requestInfo({ method: x.method, uri: x.uri, host: x.host, headers: x.headers });
    if (x.raw_line !== undefined) request.raw_line = x.raw_line;
    if (x.replay_of !== undefined) request.replay_of = x.replay_of;
    const req = requestEntry({ request, trace_id: x.trace, ts: x.ts, level: x.level });
    const acc = accessEntry({
      request, trace_id: x.trace, ts: x.ts, duration: x.duration, size: x.size, status: x.status,
      resp_headers: x.resp_headers, level: x.level, upstream: x.pod === undefined ? { address: 'a:1' } : { address: 'a:1', pod: x.pod },
    });
    if (x.error !== undefined) acc.error = x.error;
    if (x.resp_body !== undefined) acc.resp_body = x.resp_body;
    if (x.tunnel !== undefined) acc.tunnel = x.tunnel;
    return [req, acc, x.req_body];
  });

/** Writes entries (the request body captured between the two entries of an exchange, as the proxy does). */
type Delivered = Entry & { pipe: number };

function roundTrip(exchanges: Array<[RequestEntry, AccessEntry, CapturedBody | undefined]>, batchEvery = 3): Delivered[] {
  const writer = new WireWriter();
  const reader = new WireReader();
  const out: Delivered[] = [];
  let n = 0;
  const cut = (): void => {
    const batch = writer.take();
    if (batch) reader.read(batch, (pipe, e) => out.push({ ...e, pipe }));
  };
  for (const [req] of exchanges) {
    writer.write(7, req);
    if (++n % batchEvery === 0) cut();
  }
  for (const [, acc, reqBody] of exchanges) {
    if (reqBody !== undefined) acc.request.body = reqBody;
    writer.write(7, acc);
    if (++n % batchEvery === 0) cut();
  }
  cut();
  return out;
}

describe('WireWriter and WireReader', () => {
  it('give back every request and access entry exactly, whatever their text, in order and across batches', () => {
    fc.assert(
      fc.property(fc.array(exchange, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 5 }), (exchanges, every) => {
        // Expected values are taken before writing: the request body is added to the request between the entries.
        const expected: Delivered[] = [
          ...exchanges.map(([req]) => ({ ...structuredClone(req), pipe: 7 })),
          ...exchanges.map(([, acc, reqBody]) => {
            const e = structuredClone(acc);
            if (reqBody !== undefined) e.request.body = reqBody;
            return { ...e, pipe: 7 };
          }),
        ];
        expect(roundTrip(exchanges, every)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives back process entries with their fields as they were (undefined, nested, Error message)', () => {
    const writer = new WireWriter();
    const reader = new WireReader();
    const fields = { log: 'access', dropped: 3, nested: { a: [1, 'two', null] }, missing: undefined, big: 2n ** 70n };
    writer.write(1, processEntry({ level: 'warn', msg: 'log queue full, entries dropped', fields }));
    writer.write(2, processEntry({ logger: 'kube.portforward.users', msg: 'pod gone', fields: {} }));
    const out: Array<[number, Entry]> = [];
    reader.read(writer.take()!, (pipe, e) => out.push([pipe, e]));
    expect(out).toEqual([
      [1, processEntry({ level: 'warn', msg: 'log queue full, entries dropped', fields })],
      [2, processEntry({ logger: 'kube.portforward.users', msg: 'pod gone', fields: {} })],
    ]);
  });

  it('sends an access entry\'s request once when its request entry went before, and in full when it did not', () => {
    const writer = new WireWriter();
    const request = requestInfo({ uri: '/a-long-path-that-would-show-in-the-bytes-twice' });
    writer.write(1, requestEntry({ request }));
    const first = writer.take()!;
    writer.write(1, accessEntry({ request }));
    const referred = writer.take()!;
    writer.write(1, accessEntry({ request: requestInfo({ uri: '/a-long-path-that-would-show-in-the-bytes-twice' }) }));
    const full = writer.take()!;
    expect(first.includes('/a-long-path')).toBe(true);
    expect(referred.includes('/a-long-path')).toBe(false);
    expect(full.includes('/a-long-path')).toBe(true);
    const reader = new WireReader();
    const out: Entry[] = [];
    for (const b of [first, referred, full]) reader.read(b, (_p, e) => out.push(e));
    expect(out.map((e) => (e.kind === 'process' ? '' : e.request.uri))).toEqual(Array(3).fill('/a-long-path-that-would-show-in-the-bytes-twice'));
  });

  it('sends a request in full again when a third entry carries it, since the reader forgets it once referred to', () => {
    const writer = new WireWriter();
    const reader = new WireReader();
    const request = requestInfo({ uri: '/asked-three-times' });
    const out: Entry[] = [];
    const sizes: boolean[] = [];
    for (const entry of [requestEntry({ request }), accessEntry({ request }), accessEntry({ request, status: 502 })]) {
      writer.write(1, entry);
      const batch = writer.take()!;
      sizes.push(batch.includes('/asked-three-times'));
      reader.read(batch, (_p, e) => out.push(e));
    }
    expect(sizes).toEqual([true, false, true]);
    expect(out.map((e) => (e.kind === 'process' ? '' : e.request.uri))).toEqual(Array(3).fill('/asked-three-times'));
  });

  it('writes a later batch into a buffer the log side gave back, and reads the same entries from it', () => {
    const w = new WireWriter();
    const r = new WireReader();
    const read: Entry[] = [];
    const batch = (userId: string): Buffer => {
      w.write(1, accessEntry({ user_id: userId }));
      const b = w.take()!;
      r.read(b, (_pipe, e) => read.push(e));
      return b;
    };
    const big = 'x'.repeat(100_000);
    const back = batch(big).buffer as ArrayBuffer;
    w.recycle(back);
    // The batch goes in it, or the writer goes on in it and the batch after goes in it.
    const buffers = [batch(big + 'y').buffer, batch(big + 'z').buffer];
    expect(buffers).toContain(back);
    expect(read.map((e) => (e as AccessEntry).user_id)).toEqual([big, big + 'y', big + 'z']);
  });

  it('refuses a corrupt stream with the byte where it went wrong', () => {
    expect(() => new WireReader().read(Buffer.from([99]), () => undefined)).toThrow('entry stream corrupt: tag 99 at byte 0');
  });

  it('hands over a batch whose buffer is not much larger than its bytes, whatever the buffer grew to', () => {
    const writer = new WireWriter();
    // Small entries past the first buffer: it doubles, and the batch would carry half a buffer of nothing.
    while (writer.size < 70 * 1024) writer.write(1, processEntry());
    const batch = writer.take()!;
    expect(batch.buffer.byteLength).toBeLessThanOrEqual(batch.length * 1.25);
    const out: Entry[] = [];
    new WireReader().read(batch, (_pipe, e) => out.push(e));
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((e) => e.kind === 'process')).toBe(true);
  });
});
