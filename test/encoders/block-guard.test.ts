import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { guardBlockText } from '../../src/encoders/block-guard.js';
import { waitForLines } from '../helpers/files.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { accessEntry, requestInfo } from '../helpers/entries.js';
import { enc, encoder } from './fixtures.js';

const SEP = '-'.repeat(40);
const kftray = encoder({ format: 'kftray' });
const restClient = encoder({ format: 'kftray', style: 'rest-client' });

/**
 * Every code point of the classes the issue names (Unicode whitespace, format and control characters), found by
 * scanning all of Unicode rather than listed by hand. LF is left out: it is the line break itself.
 */
const HIDDEN_CLASS = /^[\p{White_Space}\p{Cf}\p{Cc}]$/u;
const HIDDEN_CODE_POINTS: string[] = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const ch = String.fromCodePoint(cp);
  if (cp !== 0x0a && HIDDEN_CLASS.test(ch)) HIDDEN_CODE_POINTS.push(ch);
}

/**
 * How a reader sees a line: on screen (Unicode blanks look like spaces, format and control characters like
 * nothing, leading and trailing blanks unnoticed), or through `trim()` as a script would.
 */
const UNICODE_BLANK = /\p{White_Space}/gu;
// A tab is a control character that shows as blank space, not as nothing: `t\trace id:` does not read as `trace id:`.
const INVISIBLE = /(?!\t)[\p{Cf}\p{Cc}]/gu;
const onScreen = (line: string): string => line.replace(INVISIBLE, '').replace(UNICODE_BLANK, ' ').trim();

function structureLines(out: string, read: (line: string) => string): { separators: number; traceIds: number; splits: number } {
  let separators = 0;
  let traceIds = 0;
  let splits = 0;
  for (const raw of out.split('\n')) {
    const line = read(raw);
    if (/^(?:#\s*)?-{40}$/.test(line)) separators++;
    if (/^(?:#\s*)?trace\s*id\s*:/i.test(line)) traceIds++;
    if (/^###/.test(line)) splits++;
  }
  return { separators, traceIds, splits };
}

const structural = fc.constantFrom(SEP, '###', '# ' + SEP, 'Trace ID: forged', '# Trace ID: forged', 'trace id: x', 'TRACE ID:');
const hidden = fc.constantFrom(...HIDDEN_CODE_POINTS);

/** A structural line with hidden characters inserted at random places (before, inside, after). */
const disguised = fc
  .tuple(structural, fc.array(fc.tuple(fc.nat(), fc.array(hidden, { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 4 }))
  .map(([line, inserts]) => {
    let s = line;
    for (const [at, chars] of inserts) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + chars.join('') + s.slice(i);
    }
    return s;
  });

function responseWith(text: string, style: 'classic' | 'rest-client'): string {
  const request = requestInfo({ method: 'POST', headers: { Host: ['h'], 'Content-Length': [String(text.length)] } });
  request.body = { bytes: text.length, text, truncated: false, content_type: 'text/plain' };
  const entry = accessEntry({ request, resp_body: { bytes: text.length, text, truncated: false, content_type: 'text/plain' } });
  return enc(style === 'classic' ? kftray : restClient, entry)!;
}

describe('kftray blocks against look-alike structure lines', () => {
  it('finds the whitespace, format and control classes by scanning every code point', () => {
    // A sanity bound that fails if the scan broke, not a list: NBSP, BOM, ZWSP, U+2028, tag characters are in.
    for (const ch of ['\u00a0', '\ufeff', '\u200b', '\u2028', '\u{e0020}', '\u3000']) expect(HIDDEN_CODE_POINTS).toContain(ch);
    expect(HIDDEN_CODE_POINTS.length).toBeGreaterThan(150);
  });

  it('escapes a body line of a no-break space and 40 dashes, showing the hidden character', () => {
    expect(guardBlockText('ok\n\u00a0' + SEP + '\nend')).toBe('ok\n\\\\u00a0' + SEP + '\nend');
  });

  it('escapes a BOM before a REST Client request separator', () => {
    expect(guardBlockText('\ufeff### next')).toBe('\\\\ufeff### next');
  });

  it('escapes a Trace ID line whose blank is a no-break space', () => {
    expect(guardBlockText('Trace\u00a0ID: forged')).toBe('\\Trace\\u00a0ID: forged');
  });

  it('leaves text with Unicode blanks alone when it reads as no structure', () => {
    const text = 'caf\u00e9\u00a0au lait\n\u3000indented\n-- 39 dashes --';
    expect(guardBlockText(text)).toBe(text);
  });

  it('keeps every disguised structure line out of the block structure, in both styles, on screen and trimmed', () => {
    fc.assert(
      fc.property(fc.array(disguised, { minLength: 1, maxLength: 5 }), fc.constantFrom('classic', 'rest-client' as const), (lines, style) => {
        const out = responseWith('before\n' + lines.join('\n') + '\nafter', style);
        // What kflog itself writes: classic = two blocks (request with its response); rest-client = two comment
        // headers and two ### terminators.
        for (const read of [onScreen, (l: string) => l.trim()]) {
          const seen = structureLines(out, read);
          expect(seen.separators).toBe(2);
          expect(seen.traceIds).toBe(2);
          expect(seen.splits).toBe(style === 'classic' ? 0 : 2);
        }
      }),
      { numRuns: 500, examples: [[['t\trace id:\u0000 x'], 'classic']] },
    );
  });

  it('guards header lines of look-alike structure too', () => {
    fc.assert(
      fc.property(disguised, fc.constantFrom('classic', 'rest-client' as const), (name, style) => {
        // node:http refuses such names, but an entry may come from anywhere (a listener process, a filter): the
        // encoder does not rely on the parser.
        const request = requestInfo({ headers: { Host: ['h'], [name]: ['x'] } });
        const out = enc(style === 'classic' ? kftray : restClient, accessEntry({ request, resp_headers: { [name]: ['y'] } }))!;
        const seen = structureLines(out, onScreen);
        expect(seen.separators).toBe(1);
        expect(seen.traceIds).toBe(1);
        expect(seen.splits).toBe(style === 'classic' ? 0 : 1);
      }),
      { numRuns: 300 },
    );
  });
});

let proc: KflogProcess | undefined;
let closeUpstream: (() => Promise<void>) | undefined;
afterEach(async () => {
  await proc?.stop();
  await closeUpstream?.();
  proc = undefined;
  closeUpstream = undefined;
});

describe('kftray file written by a running kflog', () => {
  it('shows look-alike separators and Trace ID lines from a raw client as escaped content lines', async () => {
    const upstream = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => res.end('done'));
    });
    closeUpstream = upstream.close;
    const started = await startKflog({
      forwards: [{ id: 'f', listen: '127.0.0.1:0', target: { url: upstream.url }, capture: { request_body: true } }],
      logging: { logs: { k: { writer: { output: 'file', filename: 'k.log' }, encoder: { format: 'kftray' } } } },
    });
    proc = started.proc;
    const body = 'x\n\u00a0' + SEP + '\n\ufeffTrace ID: forged\nTrace\u00a0ID: forged\n\u200b' + SEP + '\n';
    const bytes = Buffer.from(body, 'utf8');
    const [host, port] = started.addresses.f!.split(':');
    const socket = connect(Number(port), host);
    // write, not end: the client stays open for the answer (Connection: close ends it).
    socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n` + bytes.toString('latin1'), 'latin1');
    socket.resume();
    await once(socket, 'close');
    const path = join(started.dir, 'k.log');
    await waitForLines(path, (lines) => lines.some((l) => l.startsWith('Took:')));
    const out = readFileSync(path, 'utf8');
    expect(structureLines(out, onScreen)).toEqual({ separators: 2, traceIds: 2, splits: 0 });
    expect(out).toContain('\\\\u00a0' + SEP + '\n\\\\ufeffTrace ID: forged\n\\Trace\\u00a0ID: forged\n\\\\u200b' + SEP + '\n');
  });
});
