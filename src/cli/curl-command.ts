import { isUtf8 } from 'node:buffer';
import { REPLAY_OF_HEADER } from '../core/replay-of.js';
import { displayText, displayWire } from '../encoders/escape.js';
import type { CapturedRequest } from './captured-request.js';
import type { ForwardOrigin } from './forward-origin.js';
import { shellQuote, shellQuoteBytes } from './shell-quote.js';

/**
 * `kflog show --curl`: a curl command line that sends the captured request again — the method, the URI as sent,
 * the headers as captured (curl's own defaults removed where the client sent none), the body byte for byte — with
 * comment lines for what it cannot reproduce (a redacted credential, a body cut short or not captured).
 */

/** Headers curl adds by itself unless told `-H 'Name:'`: those the captured request did not have are removed. */
const CURL_DEFAULTS = ['User-Agent', 'Accept'];
/** curl sends `Expect: 100-continue` before a body above 1 MiB (curl ≥ 8.0; 1 KiB before): kflog's client sent none. */
const CURL_EXPECT_ABOVE = 1024;

const wire = (s: string): string => shellQuoteBytes(Buffer.from(s, 'latin1'));

function has(req: CapturedRequest, name: string): boolean {
  const lower = name.toLowerCase();
  return req.headers.some(([n]) => n.toLowerCase() === lower);
}

/** The body as curl's argument, or as bytes piped in when no shell word can hold them (a NUL, invalid UTF-8). */
function bodyArgs(body: Buffer): { pipe: string | undefined; arg: string } {
  if (isUtf8(body) && !body.includes(0)) {
    const text = body.toString('utf8');
    // --data-binary reads a file for a value starting with @; --data-raw sends such a value as it is.
    return { pipe: undefined, arg: (text.startsWith('@') ? '--data-raw ' : '--data-binary ') + shellQuote(text) };
  }
  return { pipe: `printf '%s' ${shellQuote(body.toString('base64'))} | base64 -d |`, arg: '--data-binary @-' };
}

/** curl's method flag: none for what its defaults already send, --head for HEAD (curl must not wait for a body). */
function methodArgs(method: string, withBody: boolean): string[] {
  if (method === (withBody ? 'POST' : 'GET')) return [];
  if (method === 'HEAD' && !withBody) return ['--head'];
  return ['-X', wire(method)];
}

function url(req: CapturedRequest, origin: ForwardOrigin | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(req.uri)) return req.uri;
  return (origin?.origin ?? 'http://HOST') + req.uri;
}

export function curlCommand(req: CapturedRequest, origin: ForwardOrigin | undefined): string {
  // Shown, not sent: a control character in the captured URI must not end the comment line (and start a command).
  const comments = [`# kflog: trace ${req.traceId}, ${displayWire(req.method)} ${displayWire(req.uri)}` + (origin ? `, to ${displayText(origin.from)}` : '')];
  if (origin === undefined) comments.push('# no config names its forward and it had no Host: put the address in place of HOST');
  for (const name of req.redacted) {
    comments.push(`# ${name} was redacted in the store and is left out: add -H '${name}: …' with the real value to send it`);
  }
  if (req.incomplete !== undefined) {
    comments.push(`# ${req.incomplete}: ` + (req.body !== undefined ? 'only the captured part is sent' : 'no body is sent'));
  }
  if (req.bodyNote !== undefined) comments.push('# ' + req.bodyNote);

  const target = url(req, origin);
  const args: string[] = ['curl', ...methodArgs(req.method, req.body !== undefined), wire(target)];
  // curl would resolve ./ and ../ in the path, and read [] and {} as its URL globs: the URI is sent as captured.
  if (/\/\.\.?(\/|$|\?)/.test(req.uri)) args.push('--path-as-is');
  if (/[[\]{}]/.test(target)) args.push('--globoff');
  // kflog's local CA signed the forward's certificate: curl trusts it only when told.
  if (origin?.caFile !== undefined && target.startsWith('https:')) args.push('--cacert ' + shellQuote(origin.caFile));
  const options: string[] = [];
  for (const [name, value] of req.headers) options.push('-H ' + wire(name + ': ' + value));
  for (const name of CURL_DEFAULTS) if (!has(req, name)) options.push('-H ' + shellQuote(name + ':'));
  if (origin?.throughKflog) options.push('-H ' + shellQuote(`${REPLAY_OF_HEADER}: ${req.traceId}`));
  let pipe: string | undefined;
  if (req.body !== undefined) {
    // curl gives a body it sends a form's Content-Type unless told otherwise.
    if (!has(req, 'Content-Type')) options.push('-H ' + shellQuote('Content-Type:'));
    if (req.body.length > CURL_EXPECT_ABOVE) options.push('-H ' + shellQuote('Expect:'));
    const b = bodyArgs(req.body);
    pipe = b.pipe;
    options.push(b.arg);
  }
  const command = [args.join(' '), ...options].join(' \\\n  ');
  return comments.join('\n') + '\n' + (pipe !== undefined ? pipe + ' \\\n' : '') + command + '\n';
}
