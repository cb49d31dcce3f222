import { Command } from 'commander';
import { openStoreForReading } from '../writers/store-db.js';
import { reportingFiles } from './file-error.js';
import { lsQuery, withFilterOptions, type LsFlags } from './ls-filters.js';
import { openOutput } from './output-file.js';
import { NO_LIMIT, writeStoreHar } from './store-har.js';
import { storePath, UsageError } from './store-read.js';

interface ExportOptions extends LsFlags {
  store?: string;
  config?: string;
  har?: boolean;
  output?: string;
  logCredentials?: boolean;
}

export function exportCommand(): Command {
  const command = new Command('export')
    .description('write the exchanges of the store as HAR 1.2 (oldest first), filtered as kflog ls filters them')
    .option('--har', 'HAR 1.2, for browsers\' devtools, Playwright\'s routeFromHAR and HAR viewers (the one export format)')
    .option('-o, --output <file>', 'write to this file (created 0600) instead of stdout')
    .option('--store <path>', 'the store (default: the store log of the config, else ~/.kflog/exchanges.db)')
    .option('-c, --config <file>', 'the config whose store log to read (default: ./kflog.json when present)');
  return withFilterOptions(command, 'all')
    .option('--log-credentials', 'keep credential headers as the store kept them (default: REDACTED, as every format)')
    .action((opts: ExportOptions, cmd: Command) =>
      reportingFiles(() => {
        if (opts.har !== true) throw new UsageError('--har: expected (HAR 1.2 is the format kflog export writes)');
        const query = lsQuery(opts, Date.now());
        const limit = opts.limit === undefined ? NO_LIMIT : query.limit;
        const path = storePath(opts);
        const db = openStoreForReading(path);
        try {
          const out = openOutput(opts.output);
          let count;
          try {
            count = writeStoreHar(db, query, limit, (text) => out.write(text), cmd.parent?.version() ?? '', { logCredentials: opts.logCredentials === true });
          } finally {
            out.close();
          }
          const { written, inFlight } = count;
          if (inFlight > 0) process.stderr.write(`kflog: left out ${inFlight} exchange${inFlight === 1 ? '' : 's'} with no response stored yet\n`);
          if (opts.output !== undefined) process.stderr.write(`kflog: wrote ${written} exchange${written === 1 ? '' : 's'} to ${opts.output}\n`);
        } finally {
          db.close();
        }
      }),
    );
}
