import { existsSync } from 'node:fs';
import type { ExchangeJson, StoredColumns } from '../admin/api-types.js';
import type { AccessEntry, CapturedBody, HeaderMap, Level, RequestEntry } from '../core/entry.js';
import { ACCESS_MSG, REQUEST_MSG } from '../core/entry.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { expandHome } from '../writers/paths.js';
import { StoreError } from '../writers/store-db.js';
import { storeWriter } from '../writers/store.js';

/** What `kflog ls` and `kflog show` share: where the store is, opening it, a row as entries and as JSON. */

/** A flag value the command cannot use: one line naming the flag and what it takes, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** --store, else the first store log of --config (or ./kflog.json when there is one), else ~/.kflog/exchanges.db. */
export function storePath(opts: { store?: string; config?: string }): string {
  if (opts.store !== undefined) return expandHome(opts.store);
  const configPath = opts.config ?? (existsSync('kflog.json') ? 'kflog.json' : undefined);
  if (configPath !== undefined) {
    const config = loadConfigFile(configPath);
    const log = config.logs.find((l) => l.writer.output === 'store');
    // The writer's own settings: the path kflog run writes, its default and ~ expansion stated once, there.
    if (log) return storeWriter.settings(log.writer).path;
  }
  return storeWriter.settings({ output: 'store' }).path;
}

/**
 * Runs a command's body and turns what the user can fix into one line on stderr and an exit code, with no stack:
 * a bad flag value exits 2, a missing or unusable store or config 1.
 */
export function reporting(body: () => void): void {
  try {
    body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`kflog: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof StoreError) {
      process.stderr.write(`kflog: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof ConfigError) {
      process.stderr.write(`kflog: ${err.message.split('\n').join('; ')}\n`);
      process.exitCode = 1;
    } else throw err;
  }
}

/** A row of the exchanges table as SQLite returns it: the API's columns, with the JSON ones as their text. */
export interface ExchangeRow extends StoredColumns {
  id: number;
  /** The trace ID this exchange replays; absent in a version-1 store, which has no such column. */
  replay_of?: string | null;
  conn: string | null;
  tunnel: string | null;
  req_headers: string | null;
  resp_headers: string | null;
  req_body_meta: string | null;
  resp_body_meta: string | null;
}

function json<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

function body(text: string | null, encoding: string | null, meta: string | null): CapturedBody | undefined {
  if (text === null) return undefined;
  const m = json<Omit<CapturedBody, 'text' | 'base64'>>(meta, { bytes: 0, truncated: false });
  return encoding === 'base64' ? { ...m, base64: text } : { ...m, text };
}

/** The exchange as the request entry and (once it ended) the access entry it was stored from. */
export function entriesOf(row: ExchangeRow): { request: RequestEntry; access?: AccessEntry } {
  const forward = { id: row.forward ?? '', listen_port: row.listen_port ?? 0, backend: row.backend ?? '' };
  const uri = (row.path ?? '') + (row.query !== null ? '?' + row.query : '');
  const info = {
    remote_ip: row.remote_ip ?? '',
    remote_port: row.remote_port ?? '',
    proto: row.proto ?? '',
    method: row.method ?? '',
    host: row.host ?? '',
    uri,
    headers: json<HeaderMap>(row.req_headers, {}),
    ...(row.req_body !== null ? { body: body(row.req_body, row.req_body_encoding, row.req_body_meta) } : {}),
    ...(row.raw_line !== null ? { raw_line: row.raw_line } : {}),
    ...(row.replay_of != null ? { replay_of: row.replay_of } : {}),
  };
  const logger = (kind: string): string => `http.log.${kind}.${forward.id}`;
  const request: RequestEntry = { kind: 'request', ts: row.ts, level: 'info', logger: logger('request'), msg: REQUEST_MSG, trace_id: row.trace_id, forward, request: info };
  if (row.status === null || row.end_ts === null) return { request };
  const access: AccessEntry = {
    kind: 'access',
    ts: row.end_ts,
    level: (row.level ?? 'info') as Level,
    logger: logger('access'),
    msg: ACCESS_MSG,
    trace_id: row.trace_id,
    forward,
    request: info,
    start: row.ts,
    bytes_read: row.bytes_read ?? 0,
    user_id: row.user_id ?? '',
    duration: (row.duration_ms ?? 0) / 1000,
    size: row.size ?? 0,
    bytes_sent: row.bytes_sent ?? 0,
    status: row.status,
    resp_headers: json<HeaderMap>(row.resp_headers, {}),
    ...(row.resp_body !== null ? { resp_body: body(row.resp_body, row.resp_body_encoding, row.resp_body_meta) } : {}),
    upstream: { address: row.upstream ?? '', ...(row.pod !== null ? { pod: row.pod } : {}) },
    timings: { tq: row.tq ?? -1, tw: row.tw ?? -1, tc: row.tc ?? -1, tr: row.tr ?? -1, tt: row.tt ?? -1 },
    termination_state: row.termination_state ?? '----',
    conn: json(row.conn, { actconn: 0, feconn: 0, beconn: 0, srv_conn: 0, retries: 0 }),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.tunnel !== null ? { tunnel: json(row.tunnel, { bytes_in: 0, bytes_out: 0 }) } : {}),
  };
  return { request, access };
}

/** The row as one JSON object (`--json`): JSON columns parsed, the internal id left out, times as ISO text too. */
export function rowJson(row: ExchangeRow): ExchangeJson {
  const { id: _id, conn, tunnel, req_headers, resp_headers, req_body_meta, resp_body_meta, ...rest } = row;
  return {
    ...rest,
    replay_of: row.replay_of ?? null,
    time: new Date(row.ts).toISOString(),
    conn: json<ExchangeJson['conn']>(conn, null),
    tunnel: json<ExchangeJson['tunnel']>(tunnel, null),
    req_headers: json<ExchangeJson['req_headers']>(req_headers, null),
    resp_headers: json<ExchangeJson['resp_headers']>(resp_headers, null),
    req_body_meta: json<ExchangeJson['req_body_meta']>(req_body_meta, null),
    resp_body_meta: json<ExchangeJson['resp_body_meta']>(resp_body_meta, null),
  };
}
