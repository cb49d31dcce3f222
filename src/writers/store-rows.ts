import type { AccessEntry, CapturedBody, RequestEntry } from '../core/entry.js';
import type { StoreDb } from './store-db.js';

/**
 * One upsert's parameters, by column position (COLUMNS): positional, because binding 41 named parameters from an
 * object was a quarter of the store's time. null leaves a column as a row already has it (see COMPLETE).
 */
type RowParams = Array<string | number | null>;

const COLUMNS = [
  'trace_id', 'forward', 'listen_port', 'backend', 'ts', 'end_ts', 'level',
  'method', 'host', 'path', 'query', 'proto', 'remote_ip', 'remote_port', 'raw_line', 'replay_of',
  'user_id', 'status', 'duration_ms', 'tq', 'tw', 'tc', 'tr', 'tt', 'termination_state',
  'bytes_read', 'size', 'bytes_sent', 'upstream', 'pod', 'conn', 'tunnel', 'error',
  'req_headers', 'resp_headers',
  'req_body', 'req_body_encoding', 'req_body_meta', 'resp_body', 'resp_body_encoding', 'resp_body_meta',
] as const;
type Column = (typeof COLUMNS)[number];

/** Each column's position in a row. */
const AT = Object.fromEntries(COLUMNS.map((c, i) => [c, i])) as Record<Column, number>;

function bodyColumns(row: RowParams, prefix: 'req' | 'resp', body: CapturedBody | undefined): void {
  if (body === undefined) return;
  const { text, base64, ...meta } = body;
  row[AT[`${prefix}_body`]] = text ?? base64 ?? '';
  row[AT[`${prefix}_body_encoding`]] = text !== undefined ? 'text' : base64 !== undefined ? 'base64' : 'text';
  row[AT[`${prefix}_body_meta`]] = JSON.stringify(meta);
}

function requestColumns(entry: RequestEntry | AccessEntry): RowParams {
  const row: RowParams = new Array<string | number | null>(COLUMNS.length).fill(null);
  const r = entry.request;
  const q = r.uri.indexOf('?');
  row[AT.trace_id] = entry.trace_id;
  row[AT.forward] = entry.forward.id;
  row[AT.listen_port] = entry.forward.listen_port;
  row[AT.backend] = entry.forward.backend;
  row[AT.method] = r.method;
  row[AT.host] = r.host;
  row[AT.path] = q < 0 ? r.uri : r.uri.slice(0, q);
  row[AT.query] = q < 0 ? null : r.uri.slice(q + 1);
  row[AT.proto] = r.proto;
  row[AT.remote_ip] = r.remote_ip;
  row[AT.remote_port] = r.remote_port;
  row[AT.raw_line] = r.raw_line ?? null;
  row[AT.replay_of] = r.replay_of ?? null;
  row[AT.req_headers] = JSON.stringify(r.headers);
  bodyColumns(row, 'req', r.body);
  return row;
}

/** The row columns one entry (as the store encoder wrote it) gives. */
export function rowOf(entry: RequestEntry | AccessEntry): RowParams {
  const row = requestColumns(entry);
  if (entry.kind === 'request') {
    row[AT.ts] = entry.ts;
    return row;
  }
  const t = entry.timings;
  row[AT.ts] = entry.ts - entry.duration * 1000;
  row[AT.end_ts] = entry.ts;
  row[AT.level] = entry.level;
  row[AT.user_id] = entry.user_id;
  row[AT.status] = entry.status;
  row[AT.duration_ms] = entry.duration * 1000;
  row[AT.tq] = t.tq;
  row[AT.tw] = t.tw;
  row[AT.tc] = t.tc;
  row[AT.tr] = t.tr;
  row[AT.tt] = t.tt;
  row[AT.termination_state] = entry.termination_state;
  row[AT.bytes_read] = entry.bytes_read;
  row[AT.size] = entry.size;
  row[AT.bytes_sent] = entry.bytes_sent;
  row[AT.upstream] = entry.upstream.address;
  row[AT.pod] = entry.upstream.pod ?? null;
  row[AT.conn] = JSON.stringify(entry.conn);
  row[AT.tunnel] = entry.tunnel ? JSON.stringify(entry.tunnel) : null;
  row[AT.error] = entry.error ?? null;
  row[AT.resp_headers] = JSON.stringify(entry.resp_headers);
  bodyColumns(row, 'resp', entry.resp_body);
  return row;
}

/**
 * The rows of a batch, one per exchange: the request and access entries of an exchange that ended within one
 * batch (most of them, the batch spanning a few ms) are merged here as the upsert would merge them, so its row and
 * its full-text terms are written once, not written and then rewritten.
 */
export function batchRows(entries: ReadonlyArray<RequestEntry | AccessEntry>): RowParams[] {
  const rows = new Map<string, RowParams>();
  for (const e of entries) {
    const row = rowOf(e);
    const earlier = rows.get(e.trace_id);
    if (earlier === undefined) {
      rows.set(e.trace_id, row);
      continue;
    }
    for (let i = 0; i < row.length; i++) {
      const v = row[i]!;
      if (v === null) continue;
      // As the upsert does: the start time is the earliest given, every other column the latest non-null.
      if (i === AT.ts && earlier[i] !== null && earlier[i]! <= v) continue;
      earlier[i] = v;
    }
  }
  return [...rows.values()];
}

/** A row's full-text terms as `kflog ls --grep` searches them: the path, both header sets, the text bodies. */
type IndexedText = { path: string | null; req_headers: string | null; resp_headers: string | null; req_body: string | null; req_body_encoding: string | null; resp_body: string | null; resp_body_encoding: string | null };

function indexParams(id: number | bigint, t: IndexedText): Array<number | bigint | string | null> {
  return [
    id,
    t.path,
    (t.req_headers ?? '') + ' ' + (t.resp_headers ?? ''),
    (t.req_body_encoding === 'text' ? t.req_body ?? '' : '') + ' ' + (t.resp_body_encoding === 'text' ? t.resp_body ?? '' : ''),
  ];
}

const INDEXED = ['path', 'req_headers', 'resp_headers', 'req_body', 'req_body_encoding', 'resp_body', 'resp_body_encoding'] as const satisfies readonly Column[];

/** A new exchange's row; an exchange already stored (its other entry came in an earlier batch) is left to COMPLETE. */
const INSERT = `INSERT INTO exchanges (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT(trace_id) DO NOTHING`;
/**
 * What the later entry adds to a stored row: null keeps what the row has; the start time is the earliest given.
 * Its parameters are a row's columns after trace_id, then trace_id. It answers the row's id and indexed text.
 */
const COMPLETE = `UPDATE exchanges SET ${COLUMNS.slice(1)
  .map((c) => (c === 'ts' ? 'ts = min(ts, coalesce(?, ts))' : `${c} = coalesce(?, ${c})`))
  .join(', ')} WHERE trace_id = ? RETURNING id, ${INDEXED.join(', ')}`;

function indexedOf(row: RowParams): IndexedText {
  const t = {} as Record<(typeof INDEXED)[number], string | null>;
  for (const c of INDEXED) t[c] = row[AT[c]] as string | null;
  return t;
}

/**
 * Writes many entries' rows in one transaction: one fsync-free commit per batch the log hands over. The full-text
 * index is written here, not by a trigger: SQLite opens a statement savepoint for each statement a trigger runs,
 * and FTS5 flushes its pending terms to disk on every savepoint, which made indexing from a trigger cost two to
 * three times what indexing the same row directly does (30 against 13 µs a row here).
 */
export function rowWriter(db: StoreDb): (entries: ReadonlyArray<RequestEntry | AccessEntry>) => void {
  const insert = db.prepare(INSERT);
  const complete = db.prepare(COMPLETE);
  const index = db.prepare('INSERT INTO exchanges_fts(rowid, path, headers, body) VALUES (?, ?, ?, ?)');
  const unindex = db.prepare('DELETE FROM exchanges_fts WHERE rowid = ?');
  return db.transaction((entries: ReadonlyArray<RequestEntry | AccessEntry>) => {
    for (const row of batchRows(entries)) {
      const inserted = insert.run(row);
      if (inserted.changes === 1) {
        index.run(indexParams(inserted.lastInsertRowid, indexedOf(row)));
        continue;
      }
      const stored = complete.get([...row.slice(1), row[AT.trace_id]]) as IndexedText & { id: number };
      unindex.run(stored.id);
      index.run(indexParams(stored.id, stored));
    }
  });
}
