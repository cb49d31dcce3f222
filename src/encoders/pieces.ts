// A line with a 60 KB body in it, built by `+` as every encoder builds its lines, is a rope; writing it into the
// log's buffer makes V8 flatten it first, a copy of the whole line on the heap for every format that shows the
// body. Under load that was most of what the log thread allocated (bench/overload.ts: ~3 flattened lines of
// 60 KB per exchange, json, kftray and logfmt). Pieces keeps big texts out of the rope: the line is built around a
// token for each, and the log's queue writes the parts one after another, so each body is copied once, into the
// buffer.

/** Texts shorter than this go into the line: flattening a short line costs less than another part. */
export const BIG_PIECE = 8 * 1024;

/**
 * Marks a piece's place in the line: NUL, its number, NUL. Encoders escape every control character of what they
 * write (escape.ts, text.ts; the property tests hold it for any input), so no line holds a NUL but these.
 */
const MARK = '\u0000';

/** A line as parts to write one after another: the text around the pieces, and the pieces. */
export type LineParts = readonly string[];

/** A line in parts' length in UTF-16 units, as a string's length counts them. */
export function partsLength(parts: LineParts): number {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i]!.length;
  return n;
}

/** One encoder's big pieces for the line being built; reset by each take(). */
export class Pieces {
  private pieces: string[] = [];

  /** `text` in the line itself when short; else a token that take() replaces by it, as a part of its own. */
  keep(text: string): string {
    if (text.length < BIG_PIECE) return text;
    this.pieces.push(text);
    return MARK + String(this.pieces.length - 1) + MARK;
  }

  /** The line built with keep(), as one string when it kept no piece, else as parts; ready for the next line. */
  take(line: string): string | LineParts {
    const pieces = this.pieces;
    if (pieces.length === 0) return line;
    this.pieces = [];
    const parts: string[] = [];
    let from = 0;
    for (;;) {
      const at = line.indexOf(MARK, from);
      if (at === -1) break;
      const end = line.indexOf(MARK, at + 1);
      const piece = end === -1 ? undefined : pieces[Number(line.slice(at + 1, end))];
      // Not a token of ours (which the escaping rules out): the rest of the line stays as it is.
      if (piece === undefined) break;
      parts.push(line.slice(from, at), piece);
      from = end + 1;
    }
    parts.push(line.slice(from));
    return parts;
  }

  /** The line built with keep() as one string (what encode() returns; the parts joined, flattened once). */
  joined(line: string): string {
    const parts = this.take(line);
    return typeof parts === 'string' ? parts : parts.join('');
  }
}
