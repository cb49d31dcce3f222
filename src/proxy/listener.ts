import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ListenTls } from '../config/listen-tls.js';
import type { ForwardConfig } from '../config/types.js';
import type { ForwardInfo } from '../core/entry.js';
import { clientTls } from './client-tls.js';
import { connState, connTls, markAccepted, markSecured } from './conn-state.js';
import { Exchange, exchangeOf } from './exchange.js';
import { H2Side } from './h2-listener.js';
import { detachHttp1, routeByPreface, type ConnectionListener } from './h2-preface.js';
import { requestInfo, unforwardableCoding } from './http-helpers.js';
import type { InFlight } from './in-flight.js';
import type { Cuttable, ListenerSide } from './listener-side.js';
import { refuse } from './refusal.js';
import type { ForwardRoute, ProcessCounters } from './route.js';
import type { Target } from './target.js';
import { acceptedSocket, clientCertificateRefusal, handshakeFailed, keepInternalLeafFresh, secureContextOptions, serverTlsOptions } from './tls-listen.js';
import { UpgradeExchange } from './tunnel.js';

/** A listen address could not be bound: said plainly, no stack trace. */
export class ListenError extends Error {}

/** How often node checks for clients too slow to send their request head (its default is 30 s). */
const CONNECTION_CHECK_MS = 1000;

/**
 * Bytes a client connection may have queued before kflog stops reading the upstream. node's default (16 KiB) is
 * below one upstream read (64 KiB): every chunk would pause the upstream until the client drained it.
 */
const RESPONSE_HIGH_WATER_MARK = 256 * 1024;

type SocketInternals = Socket & { _httpMessage?: ServerResponse | null };

/**
 * One listening address. It serves whatever route (forward config + target + log generation) is current: a
 * reload that keeps the address swaps the route and keeps the socket, so no connection is ever refused, and
 * exchanges already running finish under the route they started with.
 */
export class ForwardListener implements ListenerSide {
  /** Open client connections (HAProxy's feconn). */
  connections = 0;
  /** Exchanges (and tunnels) not yet logged. */
  readonly active = new Set<InFlight>();
  /** Open upgrade exchanges, cut at the shutdown deadline. */
  readonly tunnels = new Set<Cuttable>();
  /** Set once the shutdown deadline passed: exchanges cut now are logged as killed (K…), not as client aborts. */
  killing = false;
  draining = false;
  /** Why they were cut, for the access entries' `error`. */
  killReason = 'connection cut at shutdown deadline';
  /** Ends close()'s wait for in-flight exchanges early (a second Ctrl-C). */
  private cutWaiting: (() => void) | undefined;
  private cutRequested = false;
  private readonly server: Server | HttpsServer;
  /** The TLS the server was built with (undefined: cleartext); a reload that changes it sets a new secure context. */
  private tls: ListenTls | undefined;
  /** HTTP/2 on this address: by ALPN on a TLS listener, by prior knowledge (h2c) once a route asked for it. */
  private readonly h2: H2Side;
  /** node's HTTP/1.1 handler for a TLS connection, called once its handshake is accepted (onSecureConnection). */
  private readonly http1OverTls: ConnectionListener | undefined;
  private prefaceRouted = false;
  private idleWaiters: Array<() => void> = [];
  private port = 0;

  constructor(
    public route: ForwardRoute,
    private readonly counters: ProcessCounters,
  ) {
    const t = route.cfg.timeouts;
    const options: ServerOptions = {
      keepAliveTimeout: t.idleMs,
      requestTimeout: 0,
      headersTimeout: t.idleMs,
      connectionsCheckingInterval: CONNECTION_CHECK_MS,
      highWaterMark: RESPONSE_HIGH_WATER_MARK,
      // kflog answers a Host-less HTTP/1.1 request itself (400, logged); node's own answer would reach no log.
      requireHostHeader: false,
    };
    this.tls = listenTlsOf(route.cfg);
    // The same HTTP server over TLS (node:https is node:http's connection handling on TLS sockets): every
    // handler below serves both; the handshake, which a cleartext listener does not have, is the TLS server's.
    // A client gets as long for its handshake as for its request head.
    this.server = this.tls === undefined
      ? createServer(options, this.onRequest.bind(this))
      : createHttpsServer({ ...options, ...serverTlsOptions(this.tls, t.idleMs, () => this.route.cfg.listenH2) }, this.onRequest.bind(this));
    this.h2 = new H2Side(this);
    if (this.tls !== undefined) {
      // A TLS connection goes to HTTP/1.1 or HTTP/2 by what its handshake chose, once kflog has accepted it.
      this.http1OverTls = detachHttp1(this.server, 'secureConnection');
      this.server.on('secureConnection', this.onSecureConnection.bind(this));
      keepInternalLeafFresh(this.server as HttpsServer, this);
    }
    // A client that sends its request and shuts its write side (nc -N, shutdown(SHUT_WR), health checkers) still
    // gets its response, as from a plain server or HAProxy without abortonclose; node would end the socket at the
    // client's FIN. Not a constructor option on Node 20: the server reads this property at every FIN.
    (this.server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    this.server.on('connection', this.onConnection.bind(this));
    this.server.on('clientError', this.onClientError.bind(this));
    this.server.on('upgrade', this.onUpgrade.bind(this));
    this.server.on('connect', this.onConnect.bind(this));
    this.routeH2c();
  }

  /** h2c turned on (at start or by a reload) on a cleartext listener: connections are told apart by their preface. */
  private routeH2c(): void {
    if (this.prefaceRouted || !this.route.cfg.listenH2c || this.tls !== undefined) return;
    routeByPreface(this.server as Server, this.h2);
    this.prefaceRouted = true;
  }

  get cfg(): ForwardConfig {
    return this.route.cfg;
  }

  get target(): Target {
    return this.route.target;
  }

  get info(): ForwardInfo {
    return this.route.info;
  }

  /** The host:port actually bound (port resolved when the config said 0). */
  get address(): string {
    const host = this.route.cfg.host;
    return `${host.includes(':') ? `[${host}]` : host}:${this.port || this.route.cfg.port}`;
  }

  get boundPort(): number {
    return this.port;
  }

  /** The listener serves HTTPS. */
  get secure(): boolean {
    return this.tls !== undefined;
  }

  async listen(): Promise<void> {
    const { host, port, id } = this.route.cfg;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
        const why =
          err.code === 'EADDRINUSE' ? 'address already in use'
          : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
          : err.code === 'EADDRNOTAVAIL' ? 'address not available on this machine'
          : err.message;
        reject(new ListenError(`cannot listen on ${where} for forward "${id}": ${why}`));
      };
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.route.setListenPort(this.port);
  }

  /** Reload: new exchanges on this address (including on open keep-alive connections) use `route`. */
  setRoute(route: ForwardRoute): void {
    route.setListenPort(this.port);
    this.route = route;
    const t = route.cfg.timeouts;
    this.server.keepAliveTimeout = t.idleMs;
    this.server.headersTimeout = t.idleMs;
    const tls = listenTlsOf(route.cfg);
    if (tls !== undefined && tls.digest !== this.tls?.digest && 'setSecureContext' in this.server) {
      // New handshakes get the new certificate; connections already open keep the one they agreed on.
      this.server.setSecureContext(secureContextOptions(tls));
      this.tls = tls;
    }
    this.routeH2c();
  }

  /** A client's handshake is done: its connection takes the accepted socket's state, with the client's TLS. */
  private onSecureConnection(socket: TLSSocket): void {
    const refusal = clientCertificateRefusal(socket);
    if (refusal !== undefined) {
      handshakeFailed(this, socket, refusal);
      return;
    }
    markSecured(socket, acceptedSocket(socket), clientTls(socket));
    if (socket.alpnProtocol === 'h2') this.h2.http2(socket);
    else this.http1OverTls?.call(this.server as unknown as Server, socket);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host (nginx and HAProxy do).
      refuse(this, req.socket, {
        status: 400, termination: 'CR--', error: 'malformed request: HTTP/1.1 request without a Host header',
        request: requestInfo(req),
      }, res);
      return;
    }
    if (req.httpVersionMajor === 0) {
      // HTTP/0.9 has no headers and no status line: forwarding it as 1.1 would show a request the client never
      // made. HAProxy refuses it too.
      refuse(this, req.socket, {
        status: 400, termination: 'CR--', error: 'malformed request: HTTP/0.9 is not supported', request: requestInfo(req),
      }, res);
      return;
    }
    if (req.url === '*') {
      // `OPTIONS *` asks about the server as a whole; kflog's HTTP client (undici) sends only paths, so it is
      // answered here, honestly, rather than as a 400 or as a request for some path the client never named.
      refuse(this, req.socket, {
        status: 501, termination: 'PR--', error: 'an asterisk-form request (OPTIONS *) is not relayed by kflog',
        request: requestInfo(req),
      }, res);
      return;
    }
    const coding = unforwardableCoding(req.headers['transfer-encoding']);
    if (coding !== undefined) {
      // nginx answers 501 to a coding it does not know; chunked must be the only one, as kflog relays bodies
      // as they are and would otherwise drop the coding in front of it.
      refuse(this, req.socket, {
        status: 501, termination: 'CR--', error: `malformed request: unsupported Transfer-Encoding "${coding}"`,
        request: requestInfo(req),
      }, res);
      return;
    }
    new Exchange(this, req, res).start();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    new UpgradeExchange(this, req, socket as Socket, head).start();
  }

  /** CONNECT is not a forward's business: answered 405, and logged like any refused request. */
  private onConnect(req: IncomingMessage, socket: Duplex): void {
    const s = socket as Socket;
    s.on('error', destroySocket);
    refuse(this, s, {
      status: 405, termination: 'PR--', error: 'CONNECT is not supported by a kflog forward', request: requestInfo(req),
      extraHeaders: 'Allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n',
    });
  }

  private onConnection(socket: Socket): void {
    markAccepted(socket);
    this.connections++;
    this.counters.actconn++;
    socket.once('close', this.onConnectionClose);
  }

  private readonly onConnectionClose = (): void => {
    this.connections--;
    this.counters.actconn--;
  };

  /**
   * node's parser rejected what the client sent, or the client was too slow sending its request head: answer
   * 400 (431 for oversized headers, 408 for the timeout) and log it as one exchange, HAProxy-style.
   */
  private onClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
    const s = socket as SocketInternals;
    const code = err.code ?? '';
    if (this.tls !== undefined && socket instanceof TLSSocket && connTls(socket) === undefined) {
      // node:https reports a failed handshake here: there is no request, and nothing can be answered in HTTP.
      handshakeFailed(this, socket, err);
      return;
    }
    // A connection error while an exchange is open is that exchange's business (it logs itself); one between
    // requests, or a client closing mid-head, is not an exchange at all.
    const open = s._httpMessage;
    if (open && code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE' && s.writable) {
      // The head was fine and its exchange is open; the body was not: that exchange answers and logs it.
      const exchange = exchangeOf(open);
      if (exchange !== undefined) exchange.malformedBody(code);
      // Already answered (kflog refused the request itself): let that answer out before closing.
      else if (open.writableEnded) s.end();
      else s.destroy();
      return;
    }
    // An ERR_SSL_ code after the handshake: the TLS stream itself broke, so no answer could be read.
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'HPE_INVALID_EOF_STATE' || code.startsWith('ERR_SSL_') || !s.writable || open) {
      s.destroy();
      return;
    }
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A connection that never sent a byte (a browser's preconnect) is closed without a line, as HAProxy's
      // dontlognull does; one that started a request and stalled is a 408.
      if (connState(s).requests === 0 && s.bytesRead === 0) {
        s.destroy();
        return;
      }
      refuse(this, s, {
        status: 408, termination: 'cR--', error: 'timed out waiting for the request head', rawPacket: err.rawPacket,
      });
      return;
    }
    const tooLarge = code === 'HPE_HEADER_OVERFLOW';
    refuse(this, s, {
      status: tooLarge ? 431 : 400, termination: 'CR--', error: `malformed request: ${code || err.message}`,
      rawPacket: err.rawPacket,
    });
  }

  /** Exchanges (and tunnels) not yet logged. */
  get inflight(): number {
    return this.active.size;
  }

  /** @internal */
  exchangeDone(): void {
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /**
   * Stop accepting, let in-flight exchanges finish until the deadline, then cut what is left (those exchanges
   * are still logged, as killed).
   */
  async close(deadlineMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    this.h2.drain();
    if (this.inflight > 0 && !this.cutRequested) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs);
        this.cutWaiting = resolve;
      });
      await Promise.race([idle, deadline]);
      clearTimeout(timer);
      this.cutWaiting = undefined;
    }
    this.killing = this.inflight > 0;
    for (const t of this.tunnels) t.kill();
    this.h2.kill();
    this.server.closeAllConnections();
    await closed;
  }

  /**
   * Stop waiting for in-flight exchanges: close() cuts them now, and they are logged as killed with `reason`.
   * Called before close(), it makes close() cut at once.
   */
  cutInFlight(reason: string): void {
    this.cutRequested = true;
    this.killReason = reason;
    this.cutWaiting?.();
  }
}

/** The forward's listener TLS; "internal" must have been issued before a listener is made (Kflog.apply does). */
function listenTlsOf(cfg: ForwardConfig): ListenTls | undefined {
  if (cfg.listenTls === 'internal') throw new Error(`forward "${cfg.id}": listen_tls "internal" has no certificate issued yet`);
  return cfg.listenTls;
}

function destroySocket(this: Socket): void {
  this.destroy();
}
