import { openStoreForReading, StoreError, type StoreDb } from '../writers/store-db.js';
import { storePath, UsageError, type ExchangeRow } from './store-read.js';

/** How `kflog show` and `kflog replay` find the one exchange a (start of a) trace ID names. */

/** The argument as a trace ID prefix, lower case; anything else is refused before the store is opened. */
export function tracePrefix(arg: string): string {
  const p = arg.toLowerCase();
  if (!/^[0-9a-f-]+$/.test(p)) throw new UsageError(`trace ID "${arg}": expected a trace ID or the start of one (hex digits and -)`);
  return p;
}

/** The one exchange whose trace ID starts with `prefix`; none, or more than one, is an error saying so. */
export function findExchange(db: StoreDb, path: string, p: string): ExchangeRow {
  // A range, not LIKE: the index on trace_id answers it, and no character of the prefix is a wildcard.
  const rows = db.prepare("SELECT * FROM exchanges WHERE trace_id >= ? AND trace_id < ? LIMIT 3").all(p, p + '\uffff') as ExchangeRow[];
  if (rows.length === 0) throw new StoreError(`no exchange in ${path} has a trace ID starting ${p}`);
  if (rows.length > 1) {
    throw new UsageError(`trace ID "${p}" is the start of several exchanges' (${rows.map((r) => r.trace_id).join(', ')}${rows.length > 2 ? ', …' : ''}): give more of it`);
  }
  return rows[0]!;
}

/** The exchange a trace ID prefix names, from the store `opts` point at (as kflog ls finds it); the store is closed after. */
export function storedExchange(opts: { store?: string; config?: string }, prefix: string): ExchangeRow {
  const path = storePath(opts);
  const db = openStoreForReading(path);
  try {
    return findExchange(db, path, prefix);
  } finally {
    db.close();
  }
}
