import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, prettyJson } from '../../src/encoders/json-pretty.js';

describe('JSON pretty-printing', () => {
  it('indents like JSON.stringify(v, null, 2) for ordinary values', () => {
    const v = { a: [1, 2, { b: null, c: true }], d: {}, e: [], f: 'x y', g: -1.5 };
    expect(prettyJson(JSON.stringify(v))).toBe(JSON.stringify(v, null, 2));
  });

  it('keeps numbers and strings exactly as written', () => {
    expect(prettyJson('{"n":12345678901234567890,"s":"caf\\u00e9"}')).toBe('{\n  "n": 12345678901234567890,\n  "s": "caf\\u00e9"\n}');
  });

  it('accepts top-level scalars and surrounding whitespace', () => {
    expect(prettyJson(' \n"x" ')).toBe('"x"');
    expect(prettyJson('42')).toBe('42');
  });

  it('rejects what is not one complete JSON value', () => {
    for (const bad of ['', '{', '{"a":1', '{"a" 1}', '[1,]', '{"a":1,}', '01', '{"a":1}x', 'nul', '"a\nb"', "{'a':1}", '[1 2]', '{1:2}']) {
      expect(prettyJson(bad), bad).toBeUndefined();
    }
  });

  it('indents nesting up to its depth limit', () => {
    const deep = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH);
    expect(prettyJson(deep)?.split('\n').length).toBe(2 * MAX_DEPTH - 1);
  });

  it('gives up on pathological nesting instead of overflowing or exhausting memory', () => {
    expect(prettyJson('['.repeat(40000) + ']'.repeat(40000))).toBeUndefined();
  });
});
