import { Command } from 'commander';
import { KftrayEncoder } from '../encoders/kftray.js';
import { entriesOf, reporting, rowJson, storePath, UsageError, type ExchangeRow } from './store-read.js';
import { openStoreForReading, StoreError, type StoreDb } from '../writers/store-db.js';

interface ShowOptions {
  store?: string;
  config?: string;
  json?: boolean;
}

/** The argument as a trace ID prefix, lower case; anything else is refused before the store is opened. */
function tracePrefix(arg: string): string {
  const p = arg.toLowerCase();
  if (!/^[0-9a-f-]+$/.test(p)) throw new UsageError(`trace ID "${arg}": expected a trace ID or the start of one (hex digits and -)`);
  return p;
}

/** The one exchange whose trace ID starts with `prefix`; none, or more than one, is an error saying so. */
function findExchange(db: StoreDb, path: string, p: string): ExchangeRow {
  // A range, not LIKE: the index on trace_id answers it, and no character of the prefix is a wildcard.
  const rows = db.prepare("SELECT * FROM exchanges WHERE trace_id >= ? AND trace_id < ? LIMIT 3").all(p, p + '\uffff') as ExchangeRow[];
  if (rows.length === 0) throw new StoreError(`no exchange in ${path} has a trace ID starting ${p}`);
  if (rows.length > 1) {
    throw new UsageError(`trace ID "${p}" is the start of several exchanges' (${rows.map((r) => r.trace_id).join(', ')}${rows.length > 2 ? ', …' : ''}): give more of it`);
  }
  return rows[0]!;
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

export function showCommand(): Command {
  return new Command('show')
    .description('print one exchange of the store as kftray request/response blocks; a unique start of its trace ID is enough')
    .argument('<trace>', 'the trace ID, or a unique start of it')
    .option('--store <path>', 'the store (default: the store log of the config, else ~/.kflog/exchanges.db)')
    .option('-c, --config <file>', 'the config whose store log to read (default: ./kflog.json when present)')
    .option('--json', 'the exchange as one JSON object')
    .action((trace: string, opts: ShowOptions) =>
      reporting(() => {
        const prefix = tracePrefix(trace);
        const path = storePath(opts);
        const db = openStoreForReading(path);
        try {
          const row = findExchange(db, path, prefix);
          process.stdout.write(opts.json ? JSON.stringify(rowJson(row)) + '\n' : asKftray(row));
        } finally {
          db.close();
        }
      }),
    );
}
