import { AdminHttpError, type ExchangeQueries } from '../admin/server.js';
import type { Config } from '../config/types.js';
import { openStoreForReading, StoreError } from '../writers/store-db.js';
import { storeWriter } from '../writers/store.js';
import { listExchanges, lsQuery, type LsFlags } from './ls-filters.js';
import { rowJson, UsageError, type ExchangeRow } from './store-read.js';

/** The API's query parameters and the `kflog ls` flags they are: the same names, snake_case for the two-word one. */
const PARAMS: ReadonlyArray<[string, keyof LsFlags]> = [
  ['forward', 'forward'], ['method', 'method'], ['status', 'status'], ['path', 'path'], ['since', 'since'],
  ['until', 'until'], ['slower_than', 'slowerThan'], ['grep', 'grep'], ['limit', 'limit'],
];

/** `--slower-than "x": …` as the API spells the parameter: `slower_than "x": …`. */
function asParameter(message: string): string {
  return message.replace(/^--([a-z-]+)/, (_m, flag: string) => flag.replace(/-/g, '_'));
}

/**
 * The admin API's view of the store a config's store log writes: `kflog ls`'s filters and JSON rows, so
 * `GET /api/exchanges?status=5xx` answers what `kflog ls --status 5xx --json` prints. undefined without a store log.
 */
export function storeQueries(config: Config): ExchangeQueries | undefined {
  const log = config.logs.find((l) => l.writer.output === 'store');
  if (log === undefined) return undefined;
  const path = storeWriter.settings(log.writer).path;
  const reading = <T>(read: (db: ReturnType<typeof openStoreForReading>) => T): T => {
    let db: ReturnType<typeof openStoreForReading>;
    try {
      db = openStoreForReading(path);
    } catch (err) {
      if (err instanceof StoreError) throw new AdminHttpError(503, err.message);
      throw err;
    }
    try {
      return read(db);
    } finally {
      db.close();
    }
  };
  return {
    list(params) {
      const flags: LsFlags = {};
      for (const [name, flag] of PARAMS) {
        const v = params.get(name);
        if (v !== null) flags[flag] = v;
      }
      const unknown = [...params.keys()].find((k) => !PARAMS.some(([name]) => name === k));
      if (unknown !== undefined) throw new AdminHttpError(400, `unknown parameter "${unknown}" (known: ${PARAMS.map(([n]) => n).join(', ')})`);
      let query;
      try {
        query = lsQuery(flags, Date.now());
      } catch (err) {
        if (err instanceof UsageError) throw new AdminHttpError(400, asParameter(err.message));
        throw err;
      }
      return reading((db) => listExchanges(db, query).map(rowJson));
    },
    one(traceId) {
      return reading((db) => {
        const row = db.prepare('SELECT * FROM exchanges WHERE trace_id = ?').get(traceId) as ExchangeRow | undefined;
        return row === undefined ? undefined : rowJson(row);
      });
    },
  };
}
