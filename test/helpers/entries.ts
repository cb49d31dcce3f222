import type { AccessEntry, Level, ProcessEntry, RequestEntry, RequestInfo } from '../../src/core/entry.js';

/** Entries as the proxy emits them, for tests that feed encoders, queues and writers without a proxy. */

export const T0 = Date.UTC(2026, 10, 21, 8, 46, 39, 123) + 0.456;

export function requestInfo(over: Partial<RequestInfo> = {}): RequestInfo {
  return {
    remote_ip: '127.0.0.1',
    remote_port: '49496',
    proto: 'HTTP/1.1',
    method: 'GET',
    host: '127.0.0.1:8080',
    uri: '/api/users',
    headers: { Host: ['127.0.0.1:8080'], 'User-Agent': ['curl/7.88.1'], Accept: ['*/*'] },
    ...over,
  };
}

export function accessEntry(over: Partial<AccessEntry> = {}): AccessEntry {
  return {
    kind: 'access',
    ts: T0,
    level: 'info',
    logger: 'http.log.access.users',
    msg: 'handled request',
    trace_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    forward: { id: 'users', listen_port: 8080, backend: 'echo' },
    request: requestInfo(),
    start: T0 - 2,
    bytes_read: 0,
    user_id: '',
    duration: 0.00140379,
    size: 34,
    bytes_sent: 165,
    status: 200,
    resp_headers: { 'Content-Type': ['application/json'], 'Content-Length': ['34'] },
    upstream: { address: '127.0.0.1:3000' },
    timings: { tq: 0, tw: 0, tc: 0, tr: 1, tt: 1 },
    termination_state: '----',
    conn: { actconn: 1, feconn: 1, beconn: 0, srv_conn: 0, retries: 0 },
    ...over,
  };
}

export function requestEntry(over: Partial<RequestEntry> = {}): RequestEntry {
  return {
    kind: 'request',
    ts: T0 - 1.5,
    level: 'info',
    logger: 'http.log.request.users',
    msg: 'received request',
    trace_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    forward: { id: 'users', listen_port: 8080, backend: 'echo' },
    request: requestInfo(),
    ...over,
  };
}

export function processEntry(over: Partial<ProcessEntry> = {}): ProcessEntry {
  return { kind: 'process', ts: T0, level: 'info', logger: 'kflog', msg: 'listening', fields: { forward: 'users', address: '127.0.0.1:8080' }, ...over };
}

/**
 * An access entry stamped now and numbered through its URI (`?n=<n>`) and trace id, so a test can tell which lines
 * of a file it wrote; its status follows the level (error: 502).
 */
export function numberedAccessEntry(n: number, level: Level = 'info'): AccessEntry {
  const ts = Date.now();
  return accessEntry({
    ts,
    level,
    trace_id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    request: {
      remote_ip: '127.0.0.1',
      remote_port: '50000',
      proto: 'HTTP/1.1',
      method: 'GET',
      host: '127.0.0.1:8080',
      uri: `/api/users?n=${n}`,
      headers: { 'User-Agent': ['kflog-test/1.0'], Accept: ['application/json'] },
    },
    start: ts - 2,
    duration: 0.0012,
    bytes_sent: 150,
    status: level === 'error' ? 502 : 200,
    timings: { tq: 0, tw: 0, tc: 1, tr: 1, tt: 2 },
    conn: { actconn: 1, feconn: 1, beconn: 1, srv_conn: 1, retries: 0 },
  });
}
