import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import type { ListenTls } from '../config/listen-tls.js';
import type { Now } from '../pki/local-ca.js';
import { stripV4Mapped } from './headers.js';
import type { ListenerSide } from './listener-side.js';

/** A TLS listener's handshakes: the options its server is built with, and what a failed handshake does. */

/** The secure context of `tls`: a new one is set on the running server when a reload changed it. */
export function secureContextOptions(tls: ListenTls): SecureContextOptions {
  return tls.clientCa === undefined ? { cert: tls.cert, key: tls.key } : { cert: tls.cert, key: tls.key, ca: tls.clientCa };
}

/**
 * The server's TLS options. With client CAs the listener asks for a certificate but lets a client without one in
 * (Caddy's verify_if_given): node would refuse every client that has none, so the check of a certificate given is
 * kflog's own (clientCertificateRefusal).
 */
export function serverTlsOptions(tls: ListenTls, handshakeTimeoutMs: number, offersH2: () => boolean): TlsOptions {
  return {
    ...secureContextOptions(tls),
    requestCert: tls.clientCa !== undefined,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
    ALPNCallback: ({ protocols }) => alpnChoice(protocols, offersH2()),
  };
}

/**
 * The protocol a client's ALPN list gets: h2 when the forward serves it (asked at each handshake, so a reload that
 * changes `protocols` counts from the next connection), else http/1.1. A client offering neither is refused with
 * TLS's no_application_protocol alert (RFC 7301 §3.2), as Go's server (and so Caddy) does; a client sending no
 * ALPN at all is served HTTP/1.1.
 */
export function alpnChoice(offered: readonly string[], h2: boolean): string | undefined {
  if (h2 && offered.includes('h2')) return 'h2';
  return offered.includes('http/1.1') ? 'http/1.1' : undefined;
}

/** Why a client certificate is refused (not signed by the client CAs), or undefined when there is none or it is good. */
export function clientCertificateRefusal(socket: TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const peer = socket.getPeerCertificate();
  if (peer.raw === undefined) return undefined;
  return `client certificate not trusted: ${String(socket.authorizationError)}`;
}

/**
 * What Go's net/http (and so Caddy) answers in cleartext to plain HTTP on a TLS port, so `curl http://` to an https
 * forward says what is wrong instead of failing with an empty reply.
 */
const PLAIN_HTTP_ANSWER = 'HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

type TlsError = Error & { code?: string; reason?: string };

/** The connection a TLS socket was wrapped around, where cleartext can still be written (node's `_parent`). */
export function acceptedSocket(socket: TLSSocket): Socket | undefined {
  return (socket as TLSSocket & { _parent?: Socket })._parent ?? undefined;
}

/**
 * A client's TLS handshake failed (plain HTTP sent to the TLS port, a client aborting on an unknown CA, a timeout), or
 * kflog refused the certificate a client gave (`err` a string: the reason). There was no request, so there is no
 * exchange to log: as HAProxy logs "SSL handshake failure" as a connection error, kflog logs one process entry,
 * logger `tls.handshake.<forward id>`, with the client's address, the reason and HAProxy's termination state: CR--
 * for the client's fault, cR-- for a timeout, PR-- for a certificate kflog refused (HAProxy's P: the proxy blocked it
 * on a security check; under TLS 1.3 the client already thinks its handshake done and learns of it by the close).
 * A connection that sent nothing at all and closed or timed out is not logged (HAProxy's dontlognull, as the
 * cleartext listener does for a preconnect). Plain HTTP gets Go's cleartext 400.
 */
export function handshakeFailed(listener: ListenerSide, socket: TLSSocket, err: TlsError | string): void {
  const code = typeof err === 'string' ? '' : (err.code ?? '');
  const accepted = acceptedSocket(socket);
  const silent = (code === 'ECONNRESET' || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') && (accepted?.bytesRead ?? socket.bytesRead) === 0;
  // Read before the socket is destroyed, which forgets them.
  const remoteIp = stripV4Mapped(socket.remoteAddress ?? accepted?.remoteAddress ?? '');
  const remotePort = String(socket.remotePort ?? accepted?.remotePort ?? '');
  if (code === 'ERR_SSL_HTTP_REQUEST' && accepted !== undefined && accepted.writable) accepted.end(PLAIN_HTTP_ANSWER);
  else socket.destroy();
  if (silent) return;
  const route = listener.route;
  const reason =
    typeof err === 'string' ? err
    : code === 'ERR_SSL_HTTP_REQUEST' ? 'plain HTTP request sent to the TLS listener'
    : code === 'ECONNRESET' ? 'the client closed the connection during the handshake'
    : (err.reason ?? err.message);
  route.gen.pipeline.logger(`tls.handshake.${route.cfg.id}`).info('TLS handshake failed', {
    forward: route.cfg.id,
    remote_ip: remoteIp,
    remote_port: remotePort,
    error: reason,
    termination_state: typeof err === 'string' ? 'PR--' : code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'cR--' : 'CR--',
  });
}

/** How often a TLS listener that serves no internal leaf looks again: a reload may have made it "internal". */
const RECHECK_MS = 3_600_000;
/** setTimeout's longest delay (2^31-1 ms, about 24.8 days; a longer one fires at once): a far renewal waits in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The clock and timer the renewal runs on: the real ones, or a test's, so days pass without waiting. */
export interface RenewalClock {
  now: Now;
  /** Calls `fn` in `ms`; the timer must not keep the process alive. Returns what `cancel` takes. */
  schedule(fn: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

const REAL_CLOCK: RenewalClock = {
  now: Date.now,
  schedule: (fn, ms) => setTimeout(fn, ms).unref(),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the renewal needs of a TLS server: a new secure context for new handshakes, and its close. */
export interface RenewableServer {
  setSecureContext(options: SecureContextOptions): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Keeps the internal leaf of a running TLS listener fresh. A leaf lives 7 days and is otherwise issued again only at
 * a start or a reload, so a kflog left running would serve an expired certificate; at the leaf's renewal point (a
 * third of its life left, as Caddy renews) the kept leaf is issued again and set for new handshakes (open
 * connections keep theirs). It reads the listener's route at each step, so a reload that makes the forward
 * "internal", or makes it serve files, counts. The timer never keeps kflog alive, and ends with the server.
 */
export function keepInternalLeafFresh(server: RenewableServer, listener: Pick<ListenerSide, 'route'>, clock: RenewalClock = REAL_CLOCK): void {
  let handle: unknown;
  let closed = false;
  server.once('close', () => {
    closed = true;
    clock.cancel(handle);
  });
  const internalTls = (): ListenTls | undefined => {
    const tls = listener.route.cfg.listenTls;
    return tls !== undefined && tls !== 'internal' && tls.internal ? tls : undefined;
  };
  const arm = (at: number): void => {
    if (closed) return;
    handle = clock.schedule(() => void check(), Math.min(Math.max(0, at - clock.now()), MAX_TIMER_MS));
  };
  const check = async (): Promise<void> => {
    const tls = internalTls();
    if (tls === undefined) return arm(clock.now() + RECHECK_MS);
    const { cfg, gen } = listener.route;
    try {
      const { internalCertificate, renewalAt } = await import('../pki/local-ca.js');
      if (renewalAt(tls.cert) > clock.now()) return arm(renewalAt(tls.cert));
      const leaf = await internalCertificate(cfg.host, clock.now);
      if (closed) return;
      if (leaf.cert !== tls.cert) {
        server.setSecureContext({ cert: leaf.cert, key: leaf.key });
        const issued = new X509Certificate(leaf.cert);
        gen.pipeline.logger(`tls.renew.${cfg.id}`).info('internal certificate renewed', {
          forward: cfg.id, serial: issued.serialNumber, not_after: new Date(issued.validTo).toISOString(),
        });
      }
      // The route still names the old leaf until a reload: the new one's renewal point is the next step.
      arm(renewalAt(leaf.cert));
    } catch (err) {
      gen.pipeline.logger(`tls.renew.${cfg.id}`).error('cannot renew the internal certificate; trying again in an hour', {
        forward: cfg.id, error: (err as Error).message,
      });
      arm(clock.now() + RECHECK_MS);
    }
  };
  const tls = internalTls();
  arm(tls === undefined ? clock.now() + RECHECK_MS : 0);
}
