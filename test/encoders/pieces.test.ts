import { describe, expect, it } from 'vitest';
import { BIG_PIECE, Pieces } from '../../src/encoders/pieces.js';

describe('Pieces', () => {
  it('keeps a text shorter than a big piece in the line, and gives the line back as one string', () => {
    const p = new Pieces();
    const line = '{"text":"' + p.keep('short') + '"}\n';
    expect(p.take(line)).toBe('{"text":"short"}\n');
  });

  it('gives a line with big texts as parts that join to the line with the texts in place', () => {
    const p = new Pieces();
    const a = 'a'.repeat(BIG_PIECE);
    const b = 'b'.repeat(BIG_PIECE + 1);
    const line = 'head ' + p.keep(a) + ' middle ' + p.keep(b) + ' tail\n';
    const parts = p.take(line);
    expect(parts).toEqual(['head ', a, ' middle ', b, ' tail\n']);
  });

  it('places each text by its own token, whatever order the line puts them in', () => {
    const p = new Pieces();
    const first = p.keep('1'.repeat(BIG_PIECE));
    const second = p.keep('2'.repeat(BIG_PIECE));
    const parts = p.take('<' + second + '|' + first + '>');
    expect((parts as string[]).join('')).toBe('<' + '2'.repeat(BIG_PIECE) + '|' + '1'.repeat(BIG_PIECE) + '>');
  });

  it('starts the next line afresh: what one line kept never shows in the next', () => {
    const p = new Pieces();
    p.take('x' + p.keep('y'.repeat(BIG_PIECE)));
    expect(p.take('plain line\n')).toBe('plain line\n');
    expect(p.joined('again ' + p.keep('z'.repeat(BIG_PIECE)))).toBe('again ' + 'z'.repeat(BIG_PIECE));
  });
});
