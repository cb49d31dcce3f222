import type { HeaderMap } from '../emit/entry.js';

const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const REDACTED = ['REDACTED'];

export function isCredentialHeader(name: string): boolean {
  return CREDENTIALS.has(name.toLowerCase());
}

const cache = new WeakMap<HeaderMap, HeaderMap>();

/** The headers a log may show: credentials become ["REDACTED"] unless the log opted in. Cached per map. */
export function visibleHeaders(headers: HeaderMap, logCredentials: boolean): HeaderMap {
  if (logCredentials) return headers;
  let out = cache.get(headers);
  if (out) return out;
  out = headers;
  for (const name in headers) {
    if (isCredentialHeader(name)) {
      if (out === headers) out = { ...headers };
      out[name] = REDACTED;
    }
  }
  cache.set(headers, out);
  return out;
}
