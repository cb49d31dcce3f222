import type { CapturedBody, HeaderMap } from '../core/entry.js';
import { displayBlock, displayWire } from './escape.js';
import { asList, headerValues } from './headers.js';
import { isCredentialHeader } from './redact.js';

/**
 * What the kftray encoder's rest-client style needs to write a request that REST clients (VS Code's REST Client,
 * httpyac) send again exactly as it was captured, or to say why it cannot.
 */

/** The REST-client variable that stands for a redacted credential header: Proxy-Authorization → proxy_authorization. */
export function credentialVariable(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}

/** Placeholder values that every client parses (httpyac's cookie jar throws on a Cookie without "name="). */
const CREDENTIAL_PLACEHOLDERS: ReadonlyArray<readonly [string, string]> = [
  ['Authorization', 'REDACTED'],
  ['Proxy-Authorization', 'REDACTED'],
  ['Cookie', 'redacted=REDACTED'],
];

/**
 * The start of every rest-client file: REST-client file variables for the redacted credentials, declared once in
 * the file's first region, which both VS Code's REST Client and httpyac read as the file's global variables.
 * Written by the file writer when it starts a file (and each roll), so a file appended to across restarts still
 * declares them once.
 */
export function restClientFileHeader(): string {
  return (
    '# kflog HTTP log in REST Client format: every request below replays as it was captured, through kflog\n' +
    '# (VS Code REST Client: "Send Request"; httpyac: httpyac send FILE --all). Responses are comments, and a request\n' +
    '# that cannot be sent again as captured (truncated, binary, not captured) is a comment saying why.\n' +
    '# Credentials were redacted: put the real ones here, once, to send them.\n' +
    CREDENTIAL_PLACEHOLDERS.map(([name, value]) => `@${credentialVariable(name)} = ${value}\n`).join('') +
    '\n###\n'
  );
}

/** Headers a replaying client computes itself, from the body it sends. */
const CLIENT_COMPUTED = new Set(['content-length', 'transfer-encoding']);

export function clientComputed(name: string): boolean {
  return CLIENT_COMPUTED.has(name.toLowerCase());
}

/** Body lines REST clients read as something other than body: a file include, a script, an assertion. */
const CLIENT_SYNTAX_LINE = /^(?:<@?\w*[ \t]|>[ \t]|>\{%|\?\?[ \t])/m;

function plural(n: number): string {
  return n === 1 ? '1 byte' : n + ' bytes';
}

/** The body to write for replay (undefined: none), or why the request cannot be replayed as captured. */
export function replayBody(
  body: CapturedBody | undefined,
  headers: HeaderMap | undefined,
  wireBytes: number,
): { text: string | undefined } | { reason: string } {
  if (body === undefined) {
    return wireBytes > 0 ? { reason: `its body was not captured (${plural(wireBytes)}; capture.request_body is off)` } : { text: undefined };
  }
  if (body.bytes === 0 && !body.text && !body.base64) return { text: undefined };
  if (body.truncated) {
    const kept = body.text !== undefined ? Buffer.byteLength(body.text) : Buffer.from(body.base64 ?? '', 'base64').length;
    return { reason: `its body was truncated by max_body_bytes (${plural(kept)} of ${plural(body.bytes)} captured)` };
  }
  const encoding = headerValues(headers, 'Content-Encoding');
  if (encoding !== undefined && encoding.some((v) => v.trim() !== '' && v.trim().toLowerCase() !== 'identity')) {
    return { reason: `its body is ${encoding.join(', ')}-encoded (binary, which a .http file does not hold)` };
  }
  const text = body.text;
  if (text === undefined) {
    const type = body.content_type ?? headerValues(headers, 'Content-Type')?.[0];
    return { reason: `its body is binary (${plural(body.bytes)}${type ? ', ' + type : ''}), which a .http file does not hold` };
  }
  const why = bodyTextProblem(text);
  return why === undefined ? { text } : { reason: why };
}

function bodyTextProblem(text: string): string | undefined {
  if (text.includes('\r')) return 'its body has CR characters, which REST clients turn into plain line ends';
  if (displayBlock(text) !== text) return 'its body has control characters, which a .http file does not hold';
  if (/^[ \t]*\n/.test(text)) return 'its body starts with a blank line, which REST clients drop';
  if (/\n$/.test(text)) return 'its body ends with a line break, which REST clients drop';
  if (text.includes('{{')) return 'its body has "{{", which REST clients replace as a variable';
  if (CLIENT_SYNTAX_LINE.test(text)) return 'its body has a line REST clients read as a file include, script or assertion';
  return undefined;
}

/** Why the request line or a header cannot be written as sent, or undefined. */
export function headProblem(uri: string, headers: HeaderMap | undefined, logCredentials: boolean): string | undefined {
  if (uri.includes('{{')) return 'its URI has "{{", which REST clients replace as a variable';
  if (displayWire(uri) !== uri) return 'its URI has bytes a .http file cannot hold as sent';
  if (headers === undefined) return undefined;
  for (const name in headers) {
    if (name.startsWith('#') || name.startsWith('@') || displayWire(name) !== name) {
      return `its header name "${displayWire(name)}" cannot be written as a header line`;
    }
    if (!logCredentials && isCredentialHeader(name)) continue;
    for (const v of asList(headers[name])) {
      if (v.includes('{{')) return `its ${displayWire(name)} header has "{{", which REST clients replace as a variable`;
      if (displayWire(v) !== v) return `its ${displayWire(name)} header has bytes a .http file cannot hold as sent`;
    }
  }
  return undefined;
}
