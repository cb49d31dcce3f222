import type { ExchangeJson } from '../../src/admin/api-types.js';

/** One exchange as the list shows it, from the store's rows (/api/exchanges) or the stream's entries (/api/stream). */
export interface Row {
  trace_id: string;
  /** When the request began, epoch ms. */
  ts: number;
  forward: string;
  method: string;
  /** Path and query, as the client sent them. */
  uri: string;
  status: number | null;
  duration_ms: number | null;
  size: number | null;
  replay_of: string | null;
  /** The event's text, for the text filter of the live feed (the store's full-text search judges the first page). */
  text: string;
}

/** What the list reads of a row of GET /api/exchanges (`kflog ls --json`). */
export type StoreRow = Pick<ExchangeJson, 'trace_id' | 'ts' | 'forward' | 'method' | 'path' | 'query' | 'status' | 'duration_ms' | 'size' | 'replay_of'>;

export function fromStore(r: StoreRow): Row {
  return {
    trace_id: r.trace_id,
    ts: r.ts,
    forward: r.forward ?? '',
    method: r.method ?? '',
    uri: (r.path ?? '') + (r.query !== null ? '?' + r.query : ''),
    status: r.status,
    duration_ms: r.duration_ms,
    size: r.size,
    replay_of: r.replay_of ?? null,
    text: JSON.stringify(r),
  };
}

/** An `exchange` event's data: the access entry as kflog's json format writes it (docs/formats.md). */
interface StreamEntry {
  trace_id?: unknown;
  start?: unknown;
  ts?: unknown;
  forward?: { id?: unknown };
  request?: { method?: unknown; uri?: unknown; replay_of?: unknown };
  status?: unknown;
  duration?: unknown;
  size?: unknown;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** undefined for data that is not an access entry. */
export function fromStream(data: string): Row | undefined {
  let e: StreamEntry;
  try {
    e = JSON.parse(data) as StreamEntry;
  } catch {
    return undefined;
  }
  const trace = str(e.trace_id);
  if (trace === '') return undefined;
  // The json format's times are seconds with a fraction (Caddy's ts).
  const start = num(e.start) ?? num(e.ts) ?? Date.now() / 1000;
  const duration = num(e.duration);
  return {
    trace_id: trace,
    ts: Math.round(start * 1000),
    forward: str(e.forward?.id),
    method: str(e.request?.method),
    uri: str(e.request?.uri),
    status: num(e.status),
    duration_ms: duration === null ? null : duration * 1000,
    size: num(e.size),
    replay_of: str(e.request?.replay_of) || null,
    text: data,
  };
}
