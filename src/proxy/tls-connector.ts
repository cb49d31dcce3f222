import { buildConnector } from 'undici';
import type { UpstreamTls } from '../config/upstream-tls.js';

/**
 * undici's connector for an https upstream with a forward's `tls` options (undici's connect options are node's
 * tls.connect options). `server_name` is forced at each connect: undici would otherwise take SNI from the request's
 * Host header before its own `servername` option, and node checks the certificate against that same name.
 * `allowH2` offers h2 in the ALPN list (`versions` ["2"]).
 */
export function tlsConnector(timeoutMs: number, tls: UpstreamTls, allowH2 = false): buildConnector.connector {
  const connect = buildConnector({
    timeout: timeoutMs,
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(allowH2 ? { allowH2 } : {}),
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  });
  const servername = tls.servername;
  if (servername === undefined) return connect;
  return (options, callback) => connect({ ...options, servername }, callback);
}
