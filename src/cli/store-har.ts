import { harEntry, writeHar, type KflogHarEntry } from '../export/har.js';
import type { StoreDb } from '../writers/store-db.js';
import type { LsQuery } from './ls-filters.js';
import { entriesOf, type ExchangeRow } from './store-read.js';

/** SQLite's LIMIT for "no limit". */
export const NO_LIMIT = -1;

/** What a HAR written from the store holds: the entries written, and the exchanges left out with no response yet. */
export interface StoreHarCount {
  written: number;
  inFlight: number;
}

/**
 * The exchanges a query selects as HAR 1.2, as `kflog export --har` and the viewer's GET /api/har write it: the
 * newest `limit` as kflog ls picks them, written oldest first as HAR viewers list them.
 */
export function writeStoreHar(
  db: StoreDb,
  query: { where: string[]; params: LsQuery['params'] },
  limit: number,
  write: (text: string) => void,
  version: string,
  options: { logCredentials: boolean },
): StoreHarCount {
  const where = query.where.length > 0 ? 'WHERE ' + query.where.join(' AND ') : '';
  const rows = db
    .prepare(`SELECT * FROM (SELECT * FROM exchanges ${where} ORDER BY ts DESC, id DESC LIMIT ?) ORDER BY ts, id`)
    .iterate(...query.params, limit) as IterableIterator<ExchangeRow>;
  let inFlight = 0;
  const entries = function* (): Generator<KflogHarEntry> {
    for (const row of rows) {
      const { request, access } = entriesOf(row);
      if (access === undefined) inFlight++;
      else yield harEntry({ request, access }, options);
    }
  };
  try {
    return { written: writeHar(write, entries(), version), inFlight };
  } finally {
    // A write that failed left the query open, and the connection cannot close under it.
    rows.return?.();
  }
}
