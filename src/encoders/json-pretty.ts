/**
 * Re-indents a JSON text with 2 spaces (serde_json's to_string_pretty layout, as kftray prints bodies) without
 * parsing values: numbers and strings are copied byte for byte, so 12345678901234567890 stays exact and "\u00e9"
 * stays as the client wrote it. Returns undefined when the text is not one complete JSON value.
 * Iterative, so a deeply nested body cannot overflow the stack; past MAX_DEPTH levels it gives up (undefined), as
 * the indentation alone would grow with the square of the depth.
 */

export const MAX_DEPTH = 64;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_BODY = /(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y; // eslint-disable-line no-control-regex

const enum Expect {
  Value,
  /** After `{` or `,` inside an object: a key (or `}` right after `{`). */
  Key,
  Colon,
  /** After a value: `,` or the closer of the current container, or the end. */
  After,
}

export function prettyJson(text: string): string | undefined {
  let out = '';
  // Containers open: '{' or '['.
  const stack: string[] = [];
  let expect = Expect.Value;
  let justOpened = false;
  let i = 0;
  const n = text.length;
  const indent = (): string => '\n' + '  '.repeat(stack.length);

  while (true) {
    // skip insignificant whitespace
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    if (i >= n) break;
    const ch = text[i]!;

    if (expect === Expect.Colon) {
      if (ch !== ':') return undefined;
      out += ': ';
      i++;
      expect = Expect.Value;
      continue;
    }

    if (expect === Expect.After) {
      const top = stack[stack.length - 1];
      if (top === undefined) return undefined; // trailing garbage after the top-level value
      if (ch === ',') {
        out += ',' + indent();
        i++;
        expect = top === '{' ? Expect.Key : Expect.Value;
        justOpened = false;
        continue;
      }
      if ((ch === '}' && top === '{') || (ch === ']' && top === '[')) {
        stack.pop();
        out += indent() + ch;
        i++;
        expect = Expect.After;
        continue;
      }
      return undefined;
    }

    // Expect.Key or Expect.Value; an empty container closes right after its opener.
    if (justOpened && ((ch === '}' && stack[stack.length - 1] === '{') || (ch === ']' && stack[stack.length - 1] === '['))) {
      stack.pop();
      out += ch;
      i++;
      justOpened = false;
      expect = Expect.After;
      continue;
    }
    justOpened = false;

    if (expect === Expect.Key) {
      if (ch !== '"') return undefined;
      STRING_BODY.lastIndex = i + 1;
      if (!STRING_BODY.test(text)) return undefined;
      out += text.slice(i, STRING_BODY.lastIndex);
      i = STRING_BODY.lastIndex;
      expect = Expect.Colon;
      continue;
    }

    // A value.
    if (ch === '{' || ch === '[') {
      if (stack.length >= MAX_DEPTH) return undefined;
      stack.push(ch);
      // Open: the newline and indent are written by the first member (or not at all for an empty container).
      out += ch;
      i++;
      justOpened = true;
      expect = ch === '{' ? Expect.Key : Expect.Value;
      // Peek: a non-empty container starts its first member on a new line.
      let j = i;
      while (j < n && (text[j] === ' ' || text[j] === '\n' || text[j] === '\r' || text[j] === '\t')) j++;
      const closer = ch === '{' ? '}' : ']';
      if (j < n && text[j] !== closer) out += indent();
      continue;
    }
    if (ch === '"') {
      STRING_BODY.lastIndex = i + 1;
      if (!STRING_BODY.test(text)) return undefined;
      out += text.slice(i, STRING_BODY.lastIndex);
      i = STRING_BODY.lastIndex;
    } else if (ch === 't' && text.startsWith('true', i)) {
      out += 'true';
      i += 4;
    } else if (ch === 'f' && text.startsWith('false', i)) {
      out += 'false';
      i += 5;
    } else if (ch === 'n' && text.startsWith('null', i)) {
      out += 'null';
      i += 4;
    } else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) return undefined;
      out += text.slice(i, NUMBER.lastIndex);
      i = NUMBER.lastIndex;
    }
    expect = Expect.After;
  }
  // Complete only when a value was read and every container closed.
  if (expect !== Expect.After || stack.length !== 0) return undefined;
  return out;
}
