/** GET /api/exchanges/<trace>: one row of the store as `kflog show --json` prints it. */
export interface BodyMeta {
  bytes: number;
  truncated: boolean;
  content_type?: string;
  decoded_from?: string;
}

export type HeaderMap = Record<string, string[]>;

export interface Exchange {
  trace_id: string;
  time: string;
  forward: string | null;
  method: string | null;
  host: string | null;
  path: string | null;
  query: string | null;
  proto: string | null;
  remote_ip: string | null;
  remote_port: string | null;
  replay_of: string | null;
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
  req_headers: HeaderMap | null;
  resp_headers: HeaderMap | null;
  req_body: string | null;
  req_body_encoding: string | null;
  req_body_meta: BodyMeta | null;
  resp_body: string | null;
  resp_body_encoding: string | null;
  resp_body_meta: BodyMeta | null;
}

/** POST /api/exchanges/<trace>/replay's answer (src/admin/server.ts ReplayAnswer). */
export interface ReplayAnswer {
  replay_of: string;
  method: string;
  url: string;
  via: string;
  warnings: string[];
  status: number;
  took_ms: number;
  differences: string[] | null;
}
