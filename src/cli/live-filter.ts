import type { AccessEntry } from '../core/entry.js';
import { openStoreForWriting, type StoreDb } from '../writers/store-db.js';
import { rowWriter } from '../writers/store-rows.js';
import { lsQuery, type LsFlags } from './ls-filters.js';

/**
 * `kflog ls`'s filters for exchanges as they happen: each one is stored in a store of its own in memory, asked
 * with the very query `kflog ls` builds from the same flags, and deleted again. So `kflog tail --status 5xx
 * --grep timeout` keeps exactly what `kflog ls` with those flags would list, full-text search included, and holds
 * one row at a time.
 */
export class LiveFilter {
  private readonly db: StoreDb;
  private readonly write: (entries: ReadonlyArray<AccessEntry>) => void;
  private readonly matches: (trace: string) => boolean;
  private readonly clear: () => void;

  /** Throws a UsageError naming a flag whose value makes no sense, as `kflog ls` does. */
  constructor(flags: LsFlags) {
    const query = lsQuery(flags, Date.now());
    this.db = openStoreForWriting(':memory:');
    this.write = rowWriter(this.db);
    const where = ['trace_id = ?', ...query.where].join(' AND ');
    const select = this.db.prepare(`SELECT 1 FROM exchanges WHERE ${where}`).pluck();
    this.matches = (trace) => select.get(trace, ...query.params) !== undefined;
    const remove = this.db.prepare('DELETE FROM exchanges');
    this.clear = () => void remove.run();
  }

  /** Whether `kflog ls` with the flags would list this exchange. */
  keeps(entry: AccessEntry): boolean {
    this.write([entry]);
    try {
      return this.matches(entry.trace_id);
    } finally {
      this.clear();
    }
  }

  close(): void {
    this.db.close();
  }
}
