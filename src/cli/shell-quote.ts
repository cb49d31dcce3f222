/** One argument for a POSIX shell line (bash, zsh), quoted so the shell hands the program exactly these bytes. */

/** Printable ASCII plus tab and newline, and UTF-8 beyond ASCII (what a UTF-8 terminal or script holds as is). */
const PLAIN = /^[\t\n\x20-\x7e\u00a0-\u{10ffff}]*$/u;

/**
 * `text` in single quotes when its characters are plain, so what is printed (UTF-8) is what the program gets; the
 * one character single quotes cannot hold, ', closes, escapes and reopens them.
 */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  if (PLAIN.test(text)) return "'" + text.replace(/'/g, "'\\''") + "'";
  return ansiQuoted(Buffer.from(text, 'utf8'));
}

/**
 * Exact bytes (a header value is one byte per character, as node read it off the wire) in bash's $'…' quotes:
 * control and non-ASCII bytes as \xHH, which a terminal could not show nor a copy and paste keep.
 */
export function shellQuoteBytes(bytes: Buffer): string {
  let ascii = true;
  for (const b of bytes) if (b > 0x7e || (b < 0x20 && b !== 0x09)) ascii = false;
  return ascii ? shellQuote(bytes.toString('latin1')) : ansiQuoted(bytes);
}

function ansiQuoted(bytes: Buffer): string {
  let s = "$'";
  for (const b of bytes) {
    if (b === 0x27 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b <= 0x7e) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + "'";
}
