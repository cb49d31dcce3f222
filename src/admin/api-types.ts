/**
 * The admin API's JSON, as the server writes it and the viewer (web/) reads it: one declaration for both sides,
 * so they cannot drift. Imports nothing, so the page's own type check (web/tsconfig.json, DOM types, no Node)
 * takes it as it is.
 */

/** Header name → its values, as the logs' JSON writes them. */
export type ApiHeaderMap = Record<string, string[]>;

/** What a stored body is besides its kept bytes: its size, whether it was cut, its type, what it was decoded from. */
export interface StoredBodyMeta {
  bytes: number;
  truncated: boolean;
  content_type?: string;
  decoded_from?: string;
}

/** The columns of a stored exchange that the API shows as the store holds them. */
export interface StoredColumns {
  trace_id: string;
  forward: string | null;
  listen_port: number | null;
  backend: string | null;
  /** Epoch milliseconds the exchange started; end_ts when it ended. */
  ts: number;
  end_ts: number | null;
  level: string | null;
  method: string | null;
  host: string | null;
  path: string | null;
  query: string | null;
  proto: string | null;
  remote_ip: string | null;
  remote_port: string | null;
  raw_line: string | null;
  user_id: string | null;
  status: number | null;
  duration_ms: number | null;
  tq: number | null;
  tw: number | null;
  tc: number | null;
  tr: number | null;
  tt: number | null;
  termination_state: string | null;
  bytes_read: number | null;
  size: number | null;
  bytes_sent: number | null;
  upstream: string | null;
  pod: string | null;
  error: string | null;
  req_body: string | null;
  req_body_encoding: string | null;
  resp_body: string | null;
  resp_body_encoding: string | null;
}

/** GET /api/exchanges/<trace> and each of GET /api/exchanges' rows: `kflog show --json`'s object. */
export interface ExchangeJson extends StoredColumns {
  /** The trace ID this exchange replays, null when it is no replay. */
  replay_of: string | null;
  /** ts as ISO 8601. */
  time: string;
  conn: { actconn: number; feconn: number; beconn: number; srv_conn: number; retries: number } | null;
  tunnel: { bytes_in: number; bytes_out: number } | null;
  req_headers: ApiHeaderMap | null;
  resp_headers: ApiHeaderMap | null;
  req_body_meta: StoredBodyMeta | null;
  resp_body_meta: StoredBodyMeta | null;
}

/** What the viewer asks a replay to change (POST /api/exchanges/<trace>/replay's JSON body). */
export interface ReplayAsked {
  /** As `kflog replay -H`: `Name: value` sets, `Name:` leaves it out. */
  headers: string[];
  /** Sent instead of the captured body. */
  body?: string;
  /** Send a request whose body was truncated or not captured as it is (`kflog replay --force`). */
  force: boolean;
}

/** What the replay got, as the page shows it; the replay itself reaches the list through the stream. */
export interface ReplayAnswer {
  replay_of: string;
  method: string;
  url: string;
  via: string;
  warnings: string[];
  status: number;
  took_ms: number;
  /** What differs from the captured response (`kflog replay`'s lines); null when none was captured. */
  differences: string[] | null;
}
