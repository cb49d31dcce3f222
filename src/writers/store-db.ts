import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The exchange store's SQLite schema and how both its writer and its readers (kflog ls/show) open it. */

export type StoreDb = Database.Database;

/**
 * Bumped on every change of the tables below; a store written by a newer kflog is refused, never altered, and an
 * older one is brought up to date when opened for writing (MIGRATIONS). Readers take every version up to this one.
 * 2: `replay_of`; a new store's full-text index keeps no positions (a migrated one keeps its own: the words
 * kflog ls --grep asks for are found in either).
 * 3: the writer indexes rows itself, so the insert and update triggers are gone (a kflog of version 2 would write
 * rows it does not index: it refuses this store).
 */
export const STORE_SCHEMA_VERSION = 3;

/** How long a connection waits for another's lock (a reader's snapshot, the writer's checkpoint) before failing. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * One row per exchange: the request entry inserts it, the access entry (same trace ID) completes it; either may
 * come alone (a log that includes only one of them). Times are epoch milliseconds; headers are the logs' JSON
 * header maps; a body is its kept bytes (`*_body`), `text` or `base64` (`*_body_encoding`), and the rest of the
 * captured body (`bytes`, `truncated`, `content_type`, `decoded_from`) as JSON in `*_body_meta`.
 */
const SCHEMA = `
CREATE TABLE exchanges (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL UNIQUE,
  forward TEXT, listen_port INTEGER, backend TEXT,
  ts REAL NOT NULL, end_ts REAL, level TEXT,
  method TEXT, host TEXT, path TEXT, query TEXT, proto TEXT, remote_ip TEXT, remote_port TEXT, raw_line TEXT,
  replay_of TEXT,
  user_id TEXT, status INTEGER, duration_ms REAL,
  tq INTEGER, tw INTEGER, tc INTEGER, tr INTEGER, tt INTEGER, termination_state TEXT,
  bytes_read INTEGER, size INTEGER, bytes_sent INTEGER,
  upstream TEXT, pod TEXT, conn TEXT, tunnel TEXT, error TEXT,
  req_headers TEXT, resp_headers TEXT,
  req_body TEXT, req_body_encoding TEXT, req_body_meta TEXT,
  resp_body TEXT, resp_body_encoding TEXT, resp_body_meta TEXT
);
CREATE INDEX exchanges_ts ON exchanges(ts);
CREATE INDEX exchanges_forward_ts ON exchanges(forward, ts);
-- Contentless (the text is in exchanges already), with deletes, so retention removes a row's terms too. No
-- positions (detail=none): kflog ls --grep asks for words, not phrases, and the store writes a third faster.
CREATE VIRTUAL TABLE exchanges_fts USING fts5(path, headers, body, content='', contentless_delete=1, detail=none);
-- Rows are indexed by the writer as it inserts or completes them (store-rows.ts says why not by a trigger);
-- deletes (retention) take a row's terms with it.
CREATE TRIGGER exchanges_fts_delete AFTER DELETE ON exchanges BEGIN
  DELETE FROM exchanges_fts WHERE rowid = old.id;
END;
`;

/**
 * What takes a store of version N-1 to N, at index N-2: columns only added, so a reader of the older version
 * (which names the columns it reads) could still read the file; triggers dropped when the writer took over their work.
 */
const MIGRATIONS: readonly string[] = [
  'ALTER TABLE exchanges ADD COLUMN replay_of TEXT;',
  'DROP TRIGGER IF EXISTS exchanges_fts_insert; DROP TRIGGER IF EXISTS exchanges_fts_update;',
];

/** A store kflog cannot use: the message names the path and says why, for one line on stderr. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/** Refuses a store whose schema is newer than this kflog's, so a newer kflog's data is never misread or altered. */
function checkVersion(db: StoreDb, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > STORE_SCHEMA_VERSION) {
    throw new StoreError(`${path} is a store of schema version ${version}; this kflog knows up to ${STORE_SCHEMA_VERSION} (use a newer kflog, or another path)`);
  }
  return version;
}

/** What SQLite says about a file that is no store (not a database, damaged), with the path. */
function described(path: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError(`${path} is not a usable kflog store: ${(err as Error).message}`);
}

/**
 * Opens (creating) the store for writing: WAL, so readers never wait for the writer nor it for them; incremental
 * auto-vacuum, so retention can give freed pages back to the file system; the schema on a new file.
 */
export function openStoreForWriting(path: string): StoreDb {
  let db: StoreDb | undefined;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = checkVersion(db, path);
    if (version === 0) {
      // auto_vacuum only takes effect before the first table is created.
      db.pragma('auto_vacuum = INCREMENTAL');
      // IMMEDIATE, and the version read again under its lock: a second kflog starting on the same new file waits
      // (busy_timeout) for the first to create the tables, then finds them, instead of creating them twice.
      db.transaction(() => {
        if (checkVersion(db!, path) !== 0) return;
        db!.exec(SCHEMA);
        db!.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
      }).immediate();
    } else if (version < STORE_SCHEMA_VERSION) {
      migrate(db, path);
    }
    db.pragma('journal_mode = WAL');
    // Durable enough for logs (a power loss may lose the last transactions, never corrupt the file); no fsync per batch.
    db.pragma('synchronous = NORMAL');
    // A checkpointed WAL is cut back to this, so the -wal file does not keep its high-water mark.
    db.pragma('journal_size_limit = 1048576');
    return db;
  } catch (err) {
    db?.close();
    throw described(path, err);
  }
}

/** Opens an existing store for reading (kflog ls/show); never creates one and never writes to it. */
export function openStoreForReading(path: string): StoreDb {
  if (!existsSync(path)) missing(path);
  let db: StoreDb | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('query_only = 1');
    const version = checkVersion(db, path);
    if (version === 0) throw new StoreError(`${path} is not a kflog store (it has no exchanges table)`);
    return db;
  } catch (err) {
    db?.close();
    throw described(path, err);
  }
}

/**
 * Brings an older store up to this version. IMMEDIATE, and the version read again inside: two kflogs opening one
 * old store at once migrate it once, the second finding it done.
 */
function migrate(db: StoreDb, path: string): void {
  db.transaction(() => {
    const from = checkVersion(db, path);
    for (let v = from; v < STORE_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v - 1]!);
    db.pragma(`user_version = ${STORE_SCHEMA_VERSION}`);
  }).immediate();
}

function missing(path: string): never {
  throw new StoreError(`no store at ${path} (a log with "writer": { "output": "store" } creates it)`);
}
