import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AccessEntry, ProcessEntry, RequestEntry, RequestInfo } from '../../src/core/entry.js';
import type { Encoder, EncoderContext, EncoderOptions } from '../../src/encoders/encoder.js';
import '../../src/modules.js';
import { createEncoder } from '../../src/encoders/registry.js';

/** ../shared/reference beside the repo (as CI lays it out), unless KFLOG_REFERENCE_DIR says otherwise. */
export const REFERENCE_DIR = process.env.KFLOG_REFERENCE_DIR ?? fileURLToPath(new URL('../../../shared/reference', import.meta.url));

export function referenceLines(name: string): string[] {
  return readFileSync(`${REFERENCE_DIR}/${name}`, 'utf8').split('\n').filter((l) => l !== '');
}

export function referenceText(name: string): string {
  return readFileSync(`${REFERENCE_DIR}/${name}`, 'utf8');
}

export const CTX: EncoderContext = { logCredentials: false, isTTY: false };

export function encoder(options: EncoderOptions, ctx: Partial<EncoderContext> = {}): Encoder {
  return createEncoder(options, { ...CTX, ...ctx });
}

/** encode() as a string (every kflog encoder returns strings). */
export function enc(e: Encoder, entry: Parameters<Encoder['encode']>[0]): string | null {
  const out = e.encode(entry);
  return out === null ? null : out.toString();
}

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

const MONTH: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `21/Nov/2026:08:46:39 +0000` or `21/Nov/2026:08:48:19.732` → epoch ms. */
export function parseClfDate(s: string): number {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: ([+-])(\d{2})(\d{2}))?$/.exec(s);
  if (!m) throw new Error('bad date ' + s);
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  return Date.UTC(Number(m[3]), MONTH[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0)) - offset * 60_000;
}
