import { REPLAY_OF_HEADER } from '../core/replay-of.js';
import { displayWire } from '../encoders/escape.js';
import type { CapturedRequest } from './captured-request.js';
import { forwardOrigin } from './forward-origin.js';
import type { Config } from '../config/types.js';
import { ReplayFailed, type SentRequest } from './replay-send.js';
import { UsageError, type ExchangeRow } from './store-read.js';

/**
 * The request a replay sends, as `kflog replay` and the viewer's replay (POST /api/exchanges/<trace>/replay) both
 * build it: the captured request, sent to its forward or to --to, with the headers and body the user supplies.
 */

export interface ReplayEdits {
  /** `Name: value` to set (replacing the captured ones of that name), `Name:` to leave it out. */
  headers: string[];
  /** Sent instead of the captured body (UTF-8); undefined keeps the captured one. */
  body?: string;
  /** Another target than the forward: an http(s) URL without a query; not through kflog. */
  to?: string;
}

export interface BuiltReplay {
  sent: SentRequest;
  /** Where it goes, for the line that says so: `--to`, or the forward and its config. */
  via: string;
  /** Credentials the store has only as REDACTED that nothing supplied: left out, and said so. */
  warnings: string[];
}

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** One -H value: `Name: value` to set (replacing the captured ones of that name), `Name:` to leave it out. */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i < 0 ? '' : text.slice(0, i).trim();
  const value = i < 0 ? '' : text.slice(i + 1).trim();
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
    throw new UsageError(`-H "${displayWire(text)}": expected a header as 'Name: value' (or 'Name:' to leave it out)`);
  }
  return [name, value];
}

export function parseTo(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--to "${displayWire(text)}": expected an http:// or https:// URL without a query, such as http://127.0.0.1:9000`);
  }
  return url;
}

/** The path and query of the captured URI, which an absolute-form request carries after its origin. */
function originForm(uri: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(uri);
  if (m === null) return uri;
  const rest = uri.slice(m[0].length);
  return rest.startsWith('/') ? rest : '/' + rest;
}

/** The request to send: the captured one, sent where `edits` say (else its forward in `config`), with their headers and body. */
export function replayRequest(captured: CapturedRequest, row: ExchangeRow, config: Config | undefined, edits: ReplayEdits): BuiltReplay {
  const supplied = edits.headers.map(parseHeader);
  const to = edits.to !== undefined ? parseTo(edits.to) : undefined;
  let origin: string;
  let via: string;
  let caFile: string | undefined;
  let headers = captured.headers;
  if (to !== undefined) {
    origin = to.origin + to.pathname.replace(/\/$/, '');
    via = '--to';
    // Another target has its own name: the URL's, unless a -H Host says otherwise.
    headers = headers.filter(([n]) => n.toLowerCase() !== 'host');
  } else {
    const forward = forwardOrigin(config, row);
    if (forward === undefined) {
      throw new ReplayFailed(`no config names forward ${row.forward ?? '-'} of trace ${row.trace_id}, and its request had no Host: give --to URL (or -c CONFIG)`);
    }
    origin = forward.origin;
    via = forward.from;
    caFile = forward.caFile;
    // Addressed to kflog, which takes it off and records the replay as one.
    headers = [...headers, [REPLAY_OF_HEADER, captured.traceId]];
  }
  for (const [name, value] of supplied) {
    const lower = name.toLowerCase();
    headers = headers.filter(([n]) => n.toLowerCase() !== lower);
    if (value !== '') headers.push([name, value]);
  }
  const warnings = captured.redacted
    .filter((name) => !supplied.some(([n]) => n.toLowerCase() === name.toLowerCase()))
    .map((name) => `${name} was redacted in the store and is left out; -H '${name}: …' supplies it`);
  const body = edits.body !== undefined ? Buffer.from(edits.body, 'utf8') : captured.body;
  const sent: SentRequest = { url: origin + originForm(captured.uri), method: captured.method, headers, body };
  if (caFile !== undefined) sent.caFile = caFile;
  return { sent, via, warnings };
}
