import type { StoreDb } from './store-db.js';

export interface RetentionLimits {
  /** Rows whose exchange started longer ago than this are deleted (ms). */
  maxAgeMs: number;
  /** The file's pages in use (page_count − freelist_count, times page_size) are kept under this (bytes). */
  maxBytes: number;
}

/**
 * Deleting down to this share of max_size, not just under it: a full store then does not delete on every batch,
 * and what is written (rows and their index terms) until retention runs again, plus the WAL, stays under it.
 */
const SIZE_TARGET = 0.8;

/**
 * Deletes the oldest exchanges past max_age and past max_size, then gives the freed pages back (incremental
 * vacuum) and checkpoints the WAL into the file and truncates it, so the files on disk really shrink.
 * Returns how many rows it deleted.
 */
export function enforceRetention(db: StoreDb, limits: RetentionLimits, now: number): number {
  let deleted = db.prepare('DELETE FROM exchanges WHERE ts < ?').run(now - limits.maxAgeMs).changes;
  const oldest = db.prepare('DELETE FROM exchanges WHERE id IN (SELECT id FROM exchanges ORDER BY ts LIMIT ?)');
  const count = db.prepare('SELECT count(*) FROM exchanges').pluck();
  for (;;) {
    const used = usedBytes(db);
    if (used <= limits.maxBytes) break;
    const rows = count.get() as number;
    if (rows === 0) break;
    // Rows are about equally large on average: delete the share that brings the pages in use to the target.
    const share = (used - limits.maxBytes * SIZE_TARGET) / used;
    deleted += oldest.run(Math.max(1, Math.ceil(rows * share))).changes;
    // Deleted FTS terms are tombstones until their segments merge: merge now, so their pages are freed too.
    db.exec("INSERT INTO exchanges_fts(exchanges_fts) VALUES ('optimize')");
  }
  if (deleted > 0) {
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
  }
  return deleted;
}

/** Bytes of the database's pages that hold data; free pages are given back by the incremental vacuum. */
export function usedBytes(db: StoreDb): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return (pages - free) * size;
}
