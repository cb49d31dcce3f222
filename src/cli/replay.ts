import { Command } from 'commander';
import { displayWire } from '../encoders/escape.js';
import { capturedRequest, CapturedRequestError } from './captured-request.js';
import { configOf } from './forward-origin.js';
import { differencesBlock, responseBlock } from './replay-output.js';
import { parseHeader, parseTo, replayRequest } from './replay-request.js';
import { ReplayFailed, sendRequest } from './replay-send.js';
import { responseDiff } from './response-diff.js';
import { entriesOf, reporting } from './store-read.js';
import { storedExchange, tracePrefix } from './trace-lookup.js';

interface ReplayOptions {
  store?: string;
  config?: string;
  to?: string;
  header: string[];
  force?: boolean;
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
  const { sent, via, warnings } = replayRequest(captured, row, opts.to !== undefined ? undefined : configOf(opts), { headers: opts.header, to: opts.to });
  for (const w of warnings) process.stderr.write(`kflog: warning: ${w}\n`);
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

