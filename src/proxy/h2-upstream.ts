import type { buildConnector } from 'undici';
import type { UpstreamVersion } from '../config/types.js';

/** Said in the access entry's `error` when an upstream dialled for `versions` ["2"] chose HTTP/1.1 by ALPN. */
export class NoH2Error extends Error {
  readonly code = 'KFLOG_NO_H2';
}

/**
 * The connector of an HTTP/2 upstream. undici speaks HTTP/2 on a socket whose `alpnProtocol` is "h2":
 * - "h2c": prior knowledge, so every socket is marked h2 (undici's own `useH2c` does the same, but only in its
 *   built-in connector; this way a Kubernetes port-forward stream, kflog's own connector, gets it too);
 * - "2": the upstream must have chosen h2 by ALPN. undici always offers http/1.1 beside it, and Caddy's ["2"] means
 *   HTTP/2 only: a socket that settled on anything else is refused, so an entry's upstream.proto never lies.
 */
export function http2Connector(
  connect: buildConnector.connector, version: Exclude<UpstreamVersion, '1.1'>,
): buildConnector.connector {
  return (options, callback) => connect(options, (err, socket) => {
    if (err !== null) {
      callback(err, null);
      return;
    }
    // A TLS socket says what ALPN chose; a cleartext one (net.Socket, a port-forward stream) has no such field.
    const s = socket as unknown as { alpnProtocol?: string | false | null };
    if (version === 'h2c') {
      s.alpnProtocol = 'h2';
    } else if (s.alpnProtocol !== 'h2') {
      const chose = typeof s.alpnProtocol === 'string' ? s.alpnProtocol : 'no protocol';
      socket.destroy();
      callback(new NoH2Error(`upstream did not agree to HTTP/2 by ALPN (it chose ${chose})`), null);
      return;
    }
    callback(null, socket);
  });
}
