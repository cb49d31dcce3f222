import {
  createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { H2Exchange, h2ErrorName, noteSessionLoss } from './h2-exchange.js';
import { connTls } from './conn-state.js';
import type { PrefaceRoutes } from './h2-preface.js';
import type { ListenerSide } from './listener-side.js';

/**
 * A listener's HTTP/2: node's HTTP/2 server without a socket of its own, fed the connections that speak it: in
 * cleartext those the preface router (h2-preface.ts) finds opening with the HTTP/2 preface (`protocols` with
 * "h2c"), on a TLS listener those whose handshake chose h2 by ALPN (`protocols` with "h2", the default). Each stream is an
 * H2Exchange; each session is closed with GOAWAY when idle for the forward's idle timeout and when kflog stops.
 */
export class H2Side implements PrefaceRoutes {
  readonly sniffing = new Set<Socket>();
  private readonly server: Http2Server;
  /** Open sessions and how many of their streams are still open. */
  private readonly sessions = new Map<ServerHttp2Session, number>();
  private draining = false;

  constructor(private readonly listener: ListenerSide) {
    this.server = createServer();
    this.server.on('session', (session: ServerHttp2Session) => this.onSession(session));
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      this.onStream(stream, headers, flags, rawHeaders);
    });
  }

  get enabled(): boolean {
    return this.listener.route.cfg.listenH2c;
  }

  get firstBytesMs(): number {
    return this.listener.route.cfg.timeouts.idleMs;
  }

  http2(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  private onSession(session: ServerHttp2Session): void {
    this.sessions.set(session, 0);
    if (this.draining) session.close();
    session.on('close', () => this.sessions.delete(session));
    session.on('goaway', (code: number) => {
      noteSessionLoss(session, `client sent GOAWAY (${h2ErrorName(code)}) before the response was complete`);
    });
    session.on('error', (err: Error) => {
      noteSessionLoss(session, `HTTP/2 connection error: ${err.message}`);
    });
    // Idle (no frame either way) for the forward's idle timeout and no stream open: closed, as a keep-alive
    // HTTP/1.1 connection is. A stream that waits longer (a long poll) keeps its connection.
    session.setTimeout(this.listener.route.cfg.timeouts.idleMs, () => {
      if (this.sessions.get(session) === 0) session.close();
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const session = stream.session as ServerHttp2Session;
    this.sessions.set(session, (this.sessions.get(session) ?? 0) + 1);
    stream.once('close', () => {
      const open = this.sessions.get(session);
      if (open !== undefined) this.sessions.set(session, open - 1);
    });
    const socket = session.socket;
    new H2Exchange(this.listener, stream, {
      headers, rawHeaders, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, tls: connTls(socket),
    }, flags).start();
  }

  /** Stopping: every session is sent GOAWAY; the streams it carries finish, and it closes once they have. */
  drain(): void {
    this.draining = true;
    for (const session of this.sessions.keys()) session.close();
    for (const socket of this.sniffing) socket.destroy();
  }

  /** The shutdown deadline passed: what is left is cut (its exchanges logged as killed). */
  kill(): void {
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sniffing) socket.destroy();
  }
}
