import type { AccessEntry, CapturedBody, RequestEntry, RequestInfo } from '../../src/core/entry.js';

/**
 * Every field, optional ones included, down to the leaves: adding a field to entry.ts makes these fixtures fail
 * to compile until they set it, and then the wire format's round trip (test/handover/wire-every-field.test.ts) and the JSON
 * encoder's test fail until they carry it. (The wire format is the default path, through the log thread; `thread: false`
 * skips it, so a field it forgot would vanish there only.)
 */
type DeepRequired<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]-?: DeepRequired<T[K]> } : T;

const textBody: DeepRequired<CapturedBody> = {
  bytes: 70_000, text: '{"ok":true}', base64: 'eyJvayI6dHJ1ZX0=', truncated: true, content_type: 'application/json',
  decoded_from: 'gzip',
};

const request: DeepRequired<RequestInfo> = {
  remote_ip: '10.0.0.7', remote_port: '51514', proto: 'HTTP/1.1', method: 'POST', host: 'orders.svc', uri: '/o?x=1',
  headers: { 'Content-Type': ['application/json'], Cookie: ['a=1', 'b=2'] }, body: { ...textBody, bytes: 11 },
  raw_line: 'POST /o?x=1 HTTP/1.1', replay_of: '01a24b8b-ffff-7000-8000-000000000001',
  tls: {
    resumed: true, version: 772, cipher_suite: 4865, proto: 'http/1.1', server_name: 'orders.local',
    client_common_name: 'kflog-client', client_serial: '1234567890123456789',
  },
};

const forward = { id: 'orders', listen_port: 18080, backend: 'shop.orders' };

export const everyFieldRequestEntry: DeepRequired<RequestEntry> = {
  kind: 'request', ts: 1796563797019.109, level: 'info', logger: 'http.log.request.orders', msg: 'received request',
  trace_id: '01a24b8c-041c-7314-a05a-82186ea42832', forward, request,
};

export const everyFieldAccessEntry: DeepRequired<AccessEntry> = {
  kind: 'access', ts: 1796563797021.5, level: 'error', logger: 'http.log.access.orders', msg: 'handled request',
  trace_id: '01a24b8c-041c-7314-a05a-82186ea42832', forward, request, start: 1796563797000.25, bytes_read: 11,
  user_id: 'alice', duration: 0.0021, size: 70_000, bytes_sent: 70_210, status: 502,
  resp_headers: { 'Content-Encoding': ['gzip'] }, resp_body: textBody,
  upstream: { address: '10.1.2.3:8080', pod: 'orders-7d9f-abcde', tls_insecure: true, proto: 'HTTP/2.0' },
  timings: { tq: 1, tw: 0, tc: 2, tr: 5, tt: 9 }, termination_state: 'SH--',
  conn: { actconn: 3, feconn: 2, beconn: 1, srv_conn: 1, retries: 2 }, error: 'upstream reset', tunnel: { bytes_in: 5, bytes_out: 6 },
};

/** The leaf paths of a value (`request>headers` and the like count as one leaf), as the filter encoder names them. */
export function leafPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || prefix.endsWith('headers')) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix === '' ? k : `${prefix}>${k}`));
}
