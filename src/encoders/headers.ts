import type { HeaderMap } from '../core/entry.js';
import { hasOwn } from '../core/own-key.js';

/**
 * A header's values, by name in any case. The proxy canonicalises names ("User-Agent"), so the exact lookup nearly
 * always hits; the scan covers maps built elsewhere (tests, filters, other sources).
 */
export function headerValues(headers: HeaderMap | undefined, canonical: string): readonly string[] | undefined {
  if (headers === undefined) return undefined;
  const exact = headers[canonical];
  if (exact !== undefined && hasOwn(headers, canonical)) return asList(exact);
  const lower = canonical.toLowerCase();
  for (const name in headers) {
    if (name.length === lower.length && name.toLowerCase() === lower) return asList(headers[name]!);
  }
  return undefined;
}

/** First value (nginx's $http_referer, $http_user_agent). */
export function firstHeader(headers: HeaderMap | undefined, canonical: string): string | undefined {
  const v = headerValues(headers, canonical);
  return v === undefined || v.length === 0 ? undefined : v[0];
}

/** Last value (HAProxy's `capture … header`: "the last occurrence of the header is captured"). */
export function lastHeader(headers: HeaderMap | undefined, canonical: string): string | undefined {
  const v = headerValues(headers, canonical);
  return v === undefined || v.length === 0 ? undefined : v[v.length - 1];
}

/** A filter may have replaced a value list by a plain string; every reader goes through this. */
export function asList(v: readonly string[] | string | undefined): readonly string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}
