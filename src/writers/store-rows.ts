import type { AccessEntry, CapturedBody, RequestEntry } from '../core/entry.js';
import type { StoreDb } from './store-db.js';

/** Named parameters of one upsert; null leaves a column as a row already has it (see UPSERT). */
type RowParams = Record<string, string | number | null>;

const COLUMNS = [
  'trace_id', 'forward', 'listen_port', 'backend', 'ts', 'end_ts', 'level',
  'method', 'host', 'path', 'query', 'proto', 'remote_ip', 'remote_port', 'raw_line', 'replay_of',
  'user_id', 'status', 'duration_ms', 'tq', 'tw', 'tc', 'tr', 'tt', 'termination_state',
  'bytes_read', 'size', 'bytes_sent', 'upstream', 'pod', 'conn', 'tunnel', 'error',
  'req_headers', 'resp_headers',
  'req_body', 'req_body_encoding', 'req_body_meta', 'resp_body', 'resp_body_encoding', 'resp_body_meta',
] as const;

/**
 * The request entry and the access entry of one exchange meet in one row, in whichever order they come: what the
 * later one lacks (null) keeps what the earlier gave. The start time is the request's, whichever entry gave it.
 */
const UPSERT = `INSERT INTO exchanges (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})
  ON CONFLICT(trace_id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'trace_id')
    .map((c) => (c === 'ts' ? 'ts = min(ts, excluded.ts)' : `${c} = coalesce(excluded.${c}, ${c})`))
    .join(', ')}`;

function emptyRow(): RowParams {
  return Object.fromEntries(COLUMNS.map((c) => [c, null]));
}

function bodyColumns(row: RowParams, prefix: 'req' | 'resp', body: CapturedBody | undefined): void {
  if (body === undefined) return;
  const { text, base64, ...meta } = body;
  row[`${prefix}_body`] = text ?? base64 ?? '';
  row[`${prefix}_body_encoding`] = text !== undefined ? 'text' : base64 !== undefined ? 'base64' : 'text';
  row[`${prefix}_body_meta`] = JSON.stringify(meta);
}

function requestColumns(entry: RequestEntry | AccessEntry): RowParams {
  const row = emptyRow();
  const r = entry.request;
  const q = r.uri.indexOf('?');
  Object.assign(row, {
    trace_id: entry.trace_id,
    forward: entry.forward.id,
    listen_port: entry.forward.listen_port,
    backend: entry.forward.backend,
    method: r.method,
    host: r.host,
    path: q < 0 ? r.uri : r.uri.slice(0, q),
    query: q < 0 ? null : r.uri.slice(q + 1),
    proto: r.proto,
    remote_ip: r.remote_ip,
    remote_port: r.remote_port,
    raw_line: r.raw_line ?? null,
    replay_of: r.replay_of ?? null,
    req_headers: JSON.stringify(r.headers),
  });
  bodyColumns(row, 'req', r.body);
  return row;
}

/** The row columns one entry (as the store encoder wrote it) gives. */
export function rowOf(entry: RequestEntry | AccessEntry): RowParams {
  const row = requestColumns(entry);
  if (entry.kind === 'request') {
    row.ts = entry.ts;
    return row;
  }
  Object.assign(row, {
    ts: entry.ts - entry.duration * 1000,
    end_ts: entry.ts,
    level: entry.level,
    user_id: entry.user_id,
    status: entry.status,
    duration_ms: entry.duration * 1000,
    ...entry.timings,
    termination_state: entry.termination_state,
    bytes_read: entry.bytes_read,
    size: entry.size,
    bytes_sent: entry.bytes_sent,
    upstream: entry.upstream.address,
    pod: entry.upstream.pod ?? null,
    conn: JSON.stringify(entry.conn),
    tunnel: entry.tunnel ? JSON.stringify(entry.tunnel) : null,
    error: entry.error ?? null,
    resp_headers: JSON.stringify(entry.resp_headers),
  });
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
    for (const c of COLUMNS) {
      const v = row[c] ?? null;
      if (v === null) continue;
      // As the upsert does: the start time is the earliest given, every other column the latest non-null.
      if (c === 'ts' && earlier.ts !== null && earlier.ts! <= v) continue;
      earlier[c] = v;
    }
  }
  return [...rows.values()];
}

/** Writes many entries' rows in one transaction: one fsync-free commit per batch the log hands over. */
export function rowWriter(db: StoreDb): (entries: ReadonlyArray<RequestEntry | AccessEntry>) => void {
  const upsert = db.prepare(UPSERT);
  return db.transaction((entries: ReadonlyArray<RequestEntry | AccessEntry>) => {
    for (const row of batchRows(entries)) upsert.run(row);
  });
}
