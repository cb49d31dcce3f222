import { Command } from 'commander';
import { KftrayEncoder } from '../encoders/kftray.js';
import { StoreError } from '../writers/store-db.js';
import { capturedRequest, CapturedRequestError } from './captured-request.js';
import { curlCommand } from './curl-command.js';
import { configOf, forwardOrigin } from './forward-origin.js';
import { entriesOf, reporting, rowJson, UsageError, type ExchangeRow } from './store-read.js';
import { storedExchange, tracePrefix } from './trace-lookup.js';

interface ShowOptions {
  store?: string;
  config?: string;
  json?: boolean;
  curl?: boolean;
}

/**
 * The exchange as kftray blocks, by the kftray encoder itself. What is stored is already redacted as its log
 * redacted it, so it is shown as stored (a log with log_credentials stored the credentials).
 */
function asKftray(row: ExchangeRow): string {
  const encoder = new KftrayEncoder({ style: 'classic' }, { logCredentials: true, isTTY: false });
  const { request, access } = entriesOf(row);
  if (!access) {
    // Still in flight (or its access entry went to no store): the request block alone, with its body if kept.
    return (encoder.encode(request) ?? encoder.encode({ ...request, request: { ...request.request, body: undefined } }) ?? '') + '(no response stored yet)\n';
  }
  return (encoder.encode(request) ?? '') + (encoder.encode(access) ?? '');
}

/** The request as a curl command, sent to the listen address of its forward in the config the store came from. */
function asCurl(row: ExchangeRow, opts: ShowOptions): string {
  try {
    return curlCommand(capturedRequest(row), forwardOrigin(configOf(opts), row));
  } catch (err) {
    // One line, exit 1, as for a store that cannot be read.
    if (err instanceof CapturedRequestError) throw new StoreError(err.message);
    throw err;
  }
}

export function showCommand(): Command {
  return new Command('show')
    .description('print one exchange of the store as kftray request/response blocks; a unique start of its trace ID is enough')
    .argument('<trace>', 'the trace ID, or a unique start of it')
    .option('--store <path>', 'the store (default: the store log of the config, else ~/.kflog/exchanges.db)')
    .option('-c, --config <file>', 'the config whose store log to read (default: ./kflog.json when present)')
    .option('--json', 'the exchange as one JSON object')
    .option('--curl', "a curl command that sends the request again, through its forward's listen address")
    .action((trace: string, opts: ShowOptions) =>
      reporting(() => {
        if (opts.json && opts.curl) throw new UsageError('--json and --curl: give one of them');
        const prefix = tracePrefix(trace);
        const row = storedExchange(opts, prefix);
        process.stdout.write(opts.json ? JSON.stringify(rowJson(row)) + '\n' : opts.curl ? asCurl(row, opts) : asKftray(row));
      }),
    );
}
