import type { HeaderMap } from '../emit/entry.js';

/** What a credential header's values become in every format unless the log sets log_credentials. */
export const REDACTED = 'REDACTED';
const REDACTED_LIST: readonly string[] = [REDACTED];

/**
 * Authorization, Proxy-Authorization, Cookie, Set-Cookie (any case). Runs once per header per entry: a length switch
 * spares the lower-casing for nearly every name.
 */
export function isCredentialHeader(name: string): boolean {
  switch (name.length) {
    case 6:
      return name === 'Cookie' || name.toLowerCase() === 'cookie';
    case 10:
      return name === 'Set-Cookie' || name.toLowerCase() === 'set-cookie';
    case 13:
      return name === 'Authorization' || name.toLowerCase() === 'authorization';
    case 19:
      return name === 'Proxy-Authorization' || name.toLowerCase() === 'proxy-authorization';
    default:
      return false;
  }
}

/** A header's values as a log may show them. */
export function shownValues(name: string, values: readonly string[], logCredentials: boolean): readonly string[] {
  return !logCredentials && isCredentialHeader(name) ? REDACTED_LIST : values;
}

const redactedMaps = new WeakMap<HeaderMap, HeaderMap>();

/** The header map a log may show: credentials become ["REDACTED"] unless the log opted in. Cached per map. */
export function visibleHeaders(headers: HeaderMap, logCredentials: boolean): HeaderMap {
  if (logCredentials) return headers;
  let out = redactedMaps.get(headers);
  if (out) return out;
  out = headers;
  for (const name in headers) {
    if (isCredentialHeader(name)) {
      if (out === headers) out = { ...headers };
      out[name] = [REDACTED];
    }
  }
  redactedMaps.set(headers, out);
  return out;
}
