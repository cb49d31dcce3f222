import { Command } from 'commander';
import { listExchanges, lsQuery, withFilterOptions, type LsFlags } from './ls-filters.js';
import { openStoreForReading } from '../writers/store-db.js';
import { reporting, rowJson, storePath, type ExchangeRow } from './store-read.js';

interface LsOptions extends LsFlags {
  store?: string;
  config?: string;
  json?: boolean;
}

function size(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

function took(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${ms.toFixed(1)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

/** One exchange, one line: time, forward, method, path, status, duration, size, trace ID. In flight: status "-". */
export function lsLine(row: ExchangeRow): string {
  return [
    new Date(row.ts).toISOString(),
    row.forward ?? '-',
    row.method || '-',
    row.path || '-',
    row.status === null ? '-' : String(row.status),
    took(row.duration_ms),
    size(row.size),
    row.trace_id,
  ].join('  ');
}

export function lsCommand(): Command {
  const command = new Command('ls')
    .description('list the exchanges in the store, newest first, one line each (time, forward, method, path, status, duration, size, trace ID)')
    .option('--store <path>', 'the store (default: the store log of the config, else ~/.kflog/exchanges.db)')
    .option('-c, --config <file>', 'the config whose store log to read (default: ./kflog.json when present)');
  return withFilterOptions(command)
    .option('--json', 'one JSON object a line')
    .action((opts: LsOptions) =>
      reporting(() => {
        const query = lsQuery(opts, Date.now());
        const path = storePath(opts);
        const db = openStoreForReading(path);
        try {
          const rows = listExchanges(db, query);
          const out = rows.map((r) => (opts.json ? JSON.stringify(rowJson(r)) : lsLine(r)) + '\n').join('');
          process.stdout.write(out);
        } finally {
          db.close();
        }
      }),
    );
}
