import { Command } from 'commander';
import { REPLAY_OF_HEADER } from '../core/replay-of.js';
import { displayWire } from '../encoders/escape.js';
import { capturedRequest, CapturedRequestError, type CapturedRequest } from './captured-request.js';
import { configOf, forwardOrigin } from './forward-origin.js';
import { differencesBlock, responseBlock } from './replay-output.js';
import { ReplayFailed, sendRequest, type SentRequest } from './replay-send.js';
import { responseDiff } from './response-diff.js';
import { entriesOf, reporting, UsageError, type ExchangeRow } from './store-read.js';
import { storedExchange, tracePrefix } from './trace-lookup.js';

interface ReplayOptions {
  store?: string;
  config?: string;
  to?: string;
  header: string[];
  force?: boolean;
}

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** One -H value: `Name: value` to set (replacing the captured ones of that name), `Name:` to leave it out. */
function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i < 0 ? '' : text.slice(0, i).trim();
  const value = i < 0 ? '' : text.slice(i + 1).trim();
  if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
    throw new UsageError(`-H "${displayWire(text)}": expected a header as 'Name: value' (or 'Name:' to leave it out)`);
  }
  return [name, value];
}

function parseTo(text: string): URL {
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

/** The request to send: the captured one, sent where the options say, with the headers they add or supply. */
function replayRequest(captured: CapturedRequest, row: ExchangeRow, opts: ReplayOptions): { sent: SentRequest; via: string } {
  const supplied = opts.header.map(parseHeader);
  const to = opts.to !== undefined ? parseTo(opts.to) : undefined;
  let origin: string;
  let via: string;
  let headers = captured.headers;
  if (to !== undefined) {
    origin = to.origin + to.pathname.replace(/\/$/, '');
    via = '--to';
    // Another target has its own name: the URL's, unless a -H Host says otherwise.
    headers = headers.filter(([n]) => n.toLowerCase() !== 'host');
  } else {
    const forward = forwardOrigin(configOf(opts), row);
    if (forward === undefined) {
      throw new ReplayFailed(`no config names forward ${row.forward ?? '-'} of trace ${row.trace_id}, and its request had no Host: give --to URL (or -c CONFIG)`);
    }
    origin = forward.origin;
    via = forward.from;
    // Addressed to kflog, which takes it off and records the replay as one.
    headers = [...headers, [REPLAY_OF_HEADER, captured.traceId]];
  }
  for (const [name, value] of supplied) {
    const lower = name.toLowerCase();
    headers = headers.filter(([n]) => n.toLowerCase() !== lower);
    if (value !== '') headers.push([name, value]);
  }
  for (const name of captured.redacted) {
    if (supplied.some(([n]) => n.toLowerCase() === name.toLowerCase())) continue;
    process.stderr.write(`kflog: warning: ${name} was redacted in the store and is left out; -H '${name}: …' supplies it\n`);
  }
  const sent = { url: origin + originForm(captured.uri), method: captured.method, headers, body: captured.body };
  return { sent, via };
}

async function replay(trace: string, opts: ReplayOptions): Promise<void> {
  const prefix = tracePrefix(trace);
  // Flag values are judged before the store is opened: a bad one is a usage error whatever the store holds.
  opts.header.forEach(parseHeader);
  if (opts.to !== undefined) parseTo(opts.to);
  const row = storedExchange(opts, prefix);
  const captured = capturedRequest(row);
  if (captured.incomplete !== undefined) {
    if (!opts.force) throw new ReplayFailed(`trace ${row.trace_id} is not sent: ${captured.incomplete}; --force sends it as it is`);
    process.stderr.write(`kflog: warning: ${captured.incomplete}; sent as it is (--force)\n`);
  }
  if (captured.bodyNote !== undefined) process.stderr.write(`kflog: note: ${captured.bodyNote}\n`);
  const { sent, via } = replayRequest(captured, row, opts);
  const response = await sendRequest(sent);
  const { access } = entriesOf(row);
  process.stdout.write(
    `Replayed ${displayWire(sent.method)} ${displayWire(sent.url)} (${via})\n` +
      responseBlock(response, row.trace_id) +
      differencesBlock(access === undefined ? undefined : responseDiff(access, response)),
  );
}

export function replayCommand(): Command {
  return new Command('replay')
    .description("send a stored request again through its forward (logged and stored as a replay of it) and print the response and what differs from the captured one")
    .argument('<trace>', 'the trace ID, or a unique start of it')
    .option('--store <path>', 'the store (default: the store log of the config, else ~/.kflog/exchanges.db)')
    .option('-c, --config <file>', "the config whose store log to read and whose forward's listen address to send to (default: ./kflog.json when present)")
    .option('--to <url>', 'send it to this target instead of its forward (not through kflog)')
    .option('-H, --header <header>', "add or supply a header, 'Name: value' ('Name:' leaves it out); repeatable", (v: string, all: string[]) => [...all, v], [])
    .option('--force', 'send a request whose body was truncated or not captured, as it is')
    .action(async (trace: string, opts: ReplayOptions) => {
      try {
        await replay(trace, opts);
      } catch (err) {
        if (err instanceof ReplayFailed || err instanceof CapturedRequestError) {
          process.stderr.write(`kflog: ${err.message}\n`);
          process.exitCode = 1;
          return;
        }
        // A bad flag value (2), an unusable store or config (1): as ls and show report them.
        reporting(() => {
          throw err;
        });
      }
    });
}

