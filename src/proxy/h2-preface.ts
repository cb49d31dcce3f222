import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';

/** RFC 9113 §3.4: the bytes an HTTP/2 client with prior knowledge opens its connection with. */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Where the router sends a connection, and whether it looks at all. */
export interface PrefaceRoutes {
  /** h2c is on for the route now current (a reload may turn it on or off); off, connections go straight to HTTP/1.1. */
  readonly enabled: boolean;
  /** How long a connection may take to send its first bytes (the forward's idle timeout, node's headersTimeout). */
  readonly firstBytesMs: number;
  /** Connections still being looked at: shutdown closes them, as node closes idle HTTP/1.1 ones. */
  readonly sniffing: Set<Socket>;
  /** The connection opened with the HTTP/2 preface, which is back in the socket to be read again. */
  http2(socket: Socket): void;
}

export type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Takes node's HTTP/1.1 connection handler off `server`'s `event` ('connection' on node:http, 'secureConnection' on
 * node:https), so kflog can call it for the connections that speak HTTP/1.1 and hand the others to HTTP/2. It is
 * the listener http.Server registers on itself at construction (named connectionListener in lib/_http_server.js
 * since 2016); called as node would call it, everything it sets up (its parser, the connection list that timeouts
 * and closeIdleConnections use) is as for any connection.
 */
export function detachHttp1(server: Server | TlsServer, event: 'connection' | 'secureConnection'): ConnectionListener {
  const http1 = server.listeners(event)[0] as ConnectionListener | undefined;
  if (http1 === undefined || http1.name !== 'connectionListener') {
    throw new Error(`HTTP/2: node's HTTP/1.1 ${event} listener was not found on the server (a Node.js change?)`);
  }
  server.removeListener(event, http1);
  return http1;
}

/**
 * Puts a router in front of node's HTTP/1.1 connection handling on `server`: while h2c is on, a connection's first
 * bytes are read, compared with the HTTP/2 preface, put back (`unshift`), and the socket is handed to HTTP/2 or to
 * node's own HTTP/1.1 handler (detachHttp1), which then parses those bytes as if it had read them itself. Node has
 * no server that speaks both in cleartext on one port, and no way to peek at a socket without reading it. With h2c
 * off the router calls node's handler at once: HTTP/1.1 costs one function call per connection more, nothing per
 * request.
 */
export function routeByPreface(server: Server, routes: PrefaceRoutes): void {
  const http1 = detachHttp1(server, 'connection');
  server.prependListener('connection', (socket: Socket) => {
    if (!routes.enabled) http1.call(server, socket);
    else new PrefaceSniffer(socket, routes, () => http1.call(server, socket)).start();
  });
}

/** 'h2' / 'h1' once the bytes so far decide it, undefined while they are still a prefix of the preface. */
function verdict(bytes: Buffer): 'h2' | 'h1' | undefined {
  const n = Math.min(bytes.length, PREFACE.length);
  if (bytes.compare(PREFACE, 0, n, 0, n) !== 0) return 'h1';
  return n === PREFACE.length ? 'h2' : undefined;
}

/** Reads a new connection until its first bytes say which protocol it speaks. */
class PrefaceSniffer {
  private buffered: Buffer | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly routes: PrefaceRoutes,
    private readonly http1: () => void,
  ) {}

  start(): void {
    const s = this.socket;
    this.routes.sniffing.add(s);
    s.on('data', this.onData);
    s.on('end', this.onGone);
    s.on('error', this.onGone);
    s.on('close', this.onGone);
    this.timer = setTimeout(this.onSilent, this.routes.firstBytesMs).unref();
  }

  private readonly onData = (chunk: Buffer): void => {
    const bytes = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    const protocol = verdict(bytes);
    if (protocol === undefined) {
      this.buffered = bytes; // "P", "PRI * HT": could still be either
      return;
    }
    this.handOver(bytes, protocol);
  };

  /** A connection that sent nothing in time is closed without a line, as node's headers timeout does (dontlognull). */
  private readonly onSilent = (): void => {
    if (this.buffered === undefined) {
      this.stop();
      this.socket.destroy();
      return;
    }
    // A stalled beginning of something: HTTP/1.1's own timeout answers it (408), as it would have without h2c.
    this.handOver(this.buffered, 'h1');
  };

  /**
   * Closed, failed or half-closed before its first bytes decided anything: not a request of either protocol, and
   * not logged, as node drops a connection that closes before its request head.
   */
  private readonly onGone = (): void => {
    this.stop();
    this.socket.destroy();
  };

  private stop(): void {
    const s = this.socket;
    clearTimeout(this.timer);
    this.routes.sniffing.delete(s);
    s.off('data', this.onData);
    s.off('end', this.onGone);
    s.off('error', this.onGone);
    s.off('close', this.onGone);
  }

  private handOver(bytes: Buffer, protocol: 'h1' | 'h2'): void {
    const s = this.socket;
    this.stop();
    // Paused before the bytes go back: nothing reads them until their new owner is attached.
    s.pause();
    s.unshift(bytes);
    if (protocol === 'h2') {
      // node's HTTP/2 session takes the socket's handle and reads what is buffered in it on the next tick.
      this.routes.http2(s);
      return;
    }
    this.http1();
    // node's HTTP/1.1 handler would have found the socket flowing; it reads the bytes put back first.
    s.resume();
  }
}
