import type { Row } from './row.js';

/** The filters of the page: kflog ls's, as the API names them. Empty text is no filter. */
export interface Filters {
  forward: string;
  method: string;
  /** '', or 1xx … 5xx */
  status: string;
  grep: string;
  /** A duration as kflog ls takes it: 500ms, 2s. */
  slower_than: string;
}

export const NO_FILTERS: Filters = { forward: '', method: '', status: '', grep: '', slower_than: '' };

/** The query string of GET /api/exchanges (and /api/har) for these filters. */
export function filterParams(f: Filters): URLSearchParams {
  const p = new URLSearchParams();
  for (const key of ['forward', 'method', 'status', 'grep', 'slower_than'] as const) {
    const v = f[key].trim();
    if (v !== '') p.set(key, v);
  }
  return p;
}

const UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go-style duration (1.5s, 300ms, 1m30s) in ms; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let total = 0;
  let rest = t;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (m === null) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Words as the store's full-text index makes them (letters and digits), lower case. */
function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []);
}

/**
 * Whether a live row passes the filters, as the store's query would judge it: the text filter by every word
 * appearing in the exchange's text (the store's index matches whole words; this matches them as parts of words,
 * so the live feed shows a little more, never less).
 */
export function matches(row: Row, f: Filters): boolean {
  if (f.forward.trim() !== '' && row.forward !== f.forward.trim()) return false;
  if (f.method.trim() !== '' && row.method.toUpperCase() !== f.method.trim().toUpperCase()) return false;
  const cls = /^([1-5])xx$/i.exec(f.status.trim());
  if (cls && (row.status === null || Math.floor(row.status / 100) !== Number(cls[1]))) return false;
  const slower = durationMs(f.slower_than);
  if (slower !== undefined && !((row.duration_ms ?? 0) > slower)) return false;
  const wanted = words(f.grep);
  if (wanted.length > 0) {
    const text = row.text.toLowerCase();
    if (!wanted.every((w) => text.includes(w))) return false;
  }
  return true;
}
