import { buildConnector } from 'undici';
import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTls } from '../config/upstream-tls.js';

/** node's tls.connect options for a forward's `tls` (trust, verification, client certificate), wherever it dials. */
export function tlsClientOptions(tls: UpstreamTls): ConnectionOptions {
  return {
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  };
}

/**
 * undici's connector for an https upstream with a forward's `tls` options (undici's connect options are node's
 * tls.connect options). `server_name` is forced at each connect: undici would otherwise take SNI from the request's
 * Host header before its own `servername` option, and node checks the certificate against that same name.
 * `allowH2` offers h2 in the ALPN list (`versions` ["2"]).
 */
export function tlsConnector(timeoutMs: number, tls: UpstreamTls, allowH2 = false): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs, ...tlsClientOptions(tls), ...(allowH2 ? { allowH2 } : {}) });
  const servername = tls.servername;
  if (servername === undefined) return connect;
  return (options, callback) => connect({ ...options, servername }, callback);
}
