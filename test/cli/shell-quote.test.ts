import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuote, shellQuoteBytes } from '../../src/cli/shell-quote.js';

/** What bash hands a program for each quoted word: printf prints each argument followed by a NUL. */
function bashArguments(words: string[]): Buffer[] {
  const r = spawnSync('bash', ['-c', `printf '%s\\0' ${words.join(' ')}`], { timeout: 10_000 });
  if (r.error) throw r.error;
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < r.stdout.length; i++) {
    if (r.stdout[i] !== 0) continue;
    out.push(r.stdout.subarray(start, i));
    start = i + 1;
  }
  return out;
}

describe('shell quoting of the curl command', () => {
  it('gives bash back any text exactly, as UTF-8', () => {
    const texts = fc.sample(fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\0')), 200);
    texts.push('', "'", "it's", '$HOME `x` \\ "q"', 'a\nb\tc\r', '!event', '*?[a]{b,c}~');
    expect(bashArguments(texts.map(shellQuote))).toEqual(texts.map((t) => Buffer.from(t, 'utf8')));
  });

  it('gives bash back any bytes but NUL exactly', () => {
    const arrays = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 30 }).map((a) => Buffer.from(a.filter((b) => b !== 0))), 200);
    expect(bashArguments(arrays.map(shellQuoteBytes))).toEqual(arrays);
  });
});
