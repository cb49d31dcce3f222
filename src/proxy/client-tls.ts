import type { TLSSocket } from 'node:tls';
import type { TlsInfo } from '../core/entry.js';

/** What a TLS client connection logs: Caddy's request.tls, read once per connection when its handshake is done. */

/** node names the version ("TLSv1.3"); Caddy logs Go's number for it, the version's two bytes on the wire. */
const VERSION_NUMBERS: Readonly<Record<string, number>> = { TLSv1: 769, 'TLSv1.1': 770, 'TLSv1.2': 771, 'TLSv1.3': 772 };

/**
 * IANA numbers (RFC 8446 §B.4, RFC 5289, RFC 7905, RFC 5288) of the suites node's default cipher list and OpenSSL's
 * HIGH set can agree on, by the standard name node's getCipher() gives; node has no call that gives the number.
 */
const CIPHER_SUITES: Readonly<Record<string, number>> = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 0xc02c,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 0xc030,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca8,
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca9,
  TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xccaa,
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 0x009e,
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 0x009f,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 0xc023,
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 0xc024,
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 0xc027,
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 0xc028,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 0xc009,
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 0xc00a,
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 0xc013,
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 0xc014,
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 0x0067,
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 0x006b,
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA: 0x0033,
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA: 0x0039,
  TLS_RSA_WITH_AES_128_GCM_SHA256: 0x009c,
  TLS_RSA_WITH_AES_256_GCM_SHA384: 0x009d,
  TLS_RSA_WITH_AES_128_CBC_SHA256: 0x003c,
  TLS_RSA_WITH_AES_256_CBC_SHA256: 0x003d,
  TLS_RSA_WITH_AES_128_CBC_SHA: 0x002f,
  TLS_RSA_WITH_AES_256_CBC_SHA: 0x0035,
};

/** The TLS of a connection whose handshake is done. */
export function clientTls(socket: TLSSocket): TlsInfo {
  const cipher = socket.getCipher();
  const info: TlsInfo = {
    resumed: socket.isSessionReused(),
    version: VERSION_NUMBERS[socket.getProtocol() ?? ''] ?? 0,
    cipher_suite: CIPHER_SUITES[cipher.standardName] ?? 0,
    proto: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : '',
    server_name: typeof socket.servername === 'string' ? socket.servername : '',
  };
  // Only a certificate the listener checked gets this far (clientTlsRefusal refuses the others).
  const peer = socket.getPeerCertificate();
  if (peer.raw !== undefined) {
    const cn = peer.subject?.CN;
    info.client_common_name = Array.isArray(cn) ? cn.join(', ') : (cn ?? '');
    info.client_serial = BigInt('0x' + peer.serialNumber).toString(10);
  }
  return info;
}
