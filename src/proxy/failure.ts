/**
 * How a failed exchange is reported: HTTP status for the client, HAProxy's termination state for the log
 * (docs/formats.md). First character: who ended it (C client, S server, s server timeout, c client timeout, P proxy);
 * second: how far it got (R request, C connect, H response headers, D data). The last two (cookies) are "--".
 */
export interface Failure {
  status: number;
  termination: string;
}

/** An error's code; undici's parser errors sometimes carry none, and are then known by name. */
export function errorCode(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return err.name === 'HTTPParserError' ? 'HPE_INVALID' : '';
}

/** Errors meaning no connection to the upstream was made: nothing was sent, a retry is safe. */
export function isConnectFailure(code: string): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ||
    code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** As HAProxy, which waits up to a second before retrying a refused connection. */
export const RETRY_DELAY_MS = 1000;

/** An undici error on the way to or from the upstream, classified by how far the exchange got. */
export function classifyUpstreamError(code: string, connected: boolean, headersIn: boolean): Failure {
  if (headersIn) {
    // The status line is already with the client: only the state tells what happened.
    return { status: 0, termination: code === 'UND_ERR_BODY_TIMEOUT' ? 'sD--' : 'SD--' };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { status: 504, termination: 'sC--' };
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return { status: 504, termination: 'sH--' };
  // Something the client sent that node accepted but undici will not put on the wire.
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return { status: 400, termination: 'PR--' };
  // A refused certificate lands here too: undici reports a connection only once its TLS handshake is done.
  if (!connected || isConnectFailure(code)) return { status: 502, termination: 'SC--' };
  // The upstream answered something that is not HTTP (or headers beyond undici's limit).
  if (code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW') return { status: 502, termination: 'PH--' };
  return { status: 502, termination: 'SH--' };
}

/** The client went away; where the exchange was then. */
export function clientAbortState(connected: boolean, uploading: boolean, headersIn: boolean): string {
  if (headersIn) return 'CD--';
  if (!connected) return 'CC--';
  return uploading ? 'CD--' : 'CH--';
}

/** Digits of n in hexadecimal: the size line of a chunk in chunked transfer coding. */
export function hexLength(n: number): number {
  return n <= 0 ? 1 : n < 0x100000000 ? (32 - Math.clz32(n) + 3) >> 2 : n.toString(16).length;
}
