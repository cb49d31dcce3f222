import { unicodeEscape } from './text.js';

/**
 * Keeps captured text (bodies, header lines) from reading as the structure of a kftray block.
 *
 * A content line that a reader could take for block structure gets one more leading backslash, which keeps the
 * escape reversible (as mbox's >From quoting): kftray's separator, a `Trace ID:` line, REST Client's `###`, or their
 * `# `-commented forms, in any case, after leading blanks and any backslashes already added.
 *
 * "Could take" is judged on the line's skeleton: the line with every character removed that is invisible on screen
 * or that a trimming reader drops (Unicode whitespace, format and control characters, default-ignorable code
 * points). `\u00a0` + 40 dashes, a BOM before `###` or `Trace\u00a0ID:` read as structure on screen and to
 * `line.trim()`, so they are guarded too, and their hidden characters are written as `\uXXXX` so the reader sees why.
 */

/** Structure, matched against a skeleton (no blanks left in it, so `Trace ID` is `TraceID`). */
const STRUCTURE = /^\\*(?:-{40}|#{3}|#-{40}|#?traceid:)/i;

/** The ASCII-only form of STRUCTURE, for the fast path: blanks are spaces and tabs only. */
const ASCII_STRUCTURE = /^[ \t]*\\*(?:-{40}|#{3}|#[ \t]*-{40}|(?:#[ \t]*)?trace[ \t]*id[ \t]*:)/im;

/** Invisible or dropped by a trimming reader. LF is the line break itself and never inside a line here. */
const HIDDEN = /[\p{White_Space}\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;
/** The hidden characters other than the ASCII blanks a reader expects (space and tab stay as they are). */
const HIDDEN_SHOWN = /(?![ \t])[\p{White_Space}\p{Cf}\p{Cc}\p{Default_Ignorable_Code_Point}]/gu;

const NON_ASCII = /[^\x00-\x7f]/;

function showHidden(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp <= 0xffff) return unicodeEscape(cp);
  // Outside the BMP (tag characters, U+E0001…): both surrogates, as JSON writes them.
  return unicodeEscape(ch.charCodeAt(0)) + unicodeEscape(ch.charCodeAt(1));
}

function guardLine(line: string): string {
  if (!STRUCTURE.test(line.replace(HIDDEN, ''))) return line;
  return '\\' + line.replace(HIDDEN_SHOWN, showHidden);
}

/** Display text (one or many lines, LF-separated, controls already escaped) made safe to embed in a block. */
export function guardBlockText(text: string): string {
  if (!NON_ASCII.test(text)) {
    if (!ASCII_STRUCTURE.test(text)) return text;
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) lines[i] = guardLine(lines[i]!);
  return lines.join('\n');
}
