import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ForwardConfig } from '../config/types.js';
import { ACCESS_MSG, type AccessEntry, type ForwardInfo } from '../emit/entry.js';
import { nowMs } from '../emit/clock.js';
import type { Pipeline } from '../emit/pipeline.js';
import { connState, markAccepted } from './conn-state.js';
import { Exchange, stripV4Mapped } from './exchange.js';
import type { Target } from './target.js';
import type { TraceIdFactory } from './trace.js';

/** Process-wide state shared by every listener. */
export interface ProxyEnv {
  pipeline: Pipeline;
  traceId: TraceIdFactory;
  counters: { actconn: number };
}

/** A listen address could not be bound: said plainly, no stack trace. */
export class ListenError extends Error {}

/** One forward's HTTP/1.1 listener. */
export class ForwardListener {
  readonly info: ForwardInfo;
  readonly requestLogger: string;
  readonly accessLogger: string;
  readonly logRequest: boolean;
  readonly logAccess: boolean;
  readonly capture: ForwardConfig['capture'];
  /** Open client connections (HAProxy's feconn). */
  connections = 0;
  /** Requests in flight to the upstream (beconn). */
  beconn = 0;
  /** Exchanges not yet logged. */
  inflight = 0;
  private readonly server: Server;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly cfg: ForwardConfig,
    readonly target: Target,
    readonly env: ProxyEnv,
  ) {
    this.info = { id: cfg.id, listen_port: cfg.port, backend: target.backend };
    this.requestLogger = `http.log.request.${cfg.id}`;
    this.accessLogger = `http.log.access.${cfg.id}`;
    this.logRequest = cfg.logEnabled && env.pipeline.route(this.requestLogger).length > 0;
    this.logAccess = cfg.logEnabled && env.pipeline.route(this.accessLogger).length > 0;
    this.capture = cfg.capture;
    this.server = createServer(
      {
        keepAliveTimeout: cfg.timeouts.idleMs,
        requestTimeout: 0,
        headersTimeout: Math.max(cfg.timeouts.headersMs, 1000),
      },
      (req: IncomingMessage, res: ServerResponse) => new Exchange(this, req, res).start(),
    );
    this.server.on('connection', (socket: Socket) => this.onConnection(socket));
    this.server.on('clientError', (err: Error, socket: Socket) => this.onClientError(err, socket));
  }

  get address(): string {
    const host = this.cfg.host.includes(':') ? `[${this.cfg.host}]` : this.cfg.host;
    return `${host}:${this.info.listen_port}`;
  }

  async listen(): Promise<void> {
    const { host, port } = this.cfg;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
        const why =
          err.code === 'EADDRINUSE' ? 'address already in use'
          : err.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
          : err.code === 'EADDRNOTAVAIL' ? 'address not available on this machine'
          : err.message;
        reject(new ListenError(`cannot listen on ${where} for forward "${this.cfg.id}": ${why}`));
      };
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.info.listen_port = (this.server.address() as AddressInfo).port;
  }

  private onConnection(socket: Socket): void {
    markAccepted(socket);
    this.connections++;
    this.env.counters.actconn++;
    socket.once('close', () => {
      this.connections--;
      this.env.counters.actconn--;
    });
  }

  /** A request node's parser rejected: answer 400 (431 for oversized headers) and log it as one exchange. */
  private onClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
    const body = `kflog: ${status} ${reason}\n`;
    const response = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    socket.end(response);
    if (!this.logAccess) return;
    const state = connState(socket);
    const now = nowMs();
    const raw = err.rawPacket ? firstLine(err.rawPacket) : '';
    const entry: AccessEntry = {
      kind: 'access',
      ts: now,
      level: 'info',
      logger: this.accessLogger,
      msg: ACCESS_MSG,
      trace_id: this.env.traceId(),
      forward: this.info,
      request: {
        remote_ip: stripV4Mapped(socket.remoteAddress ?? ''),
        remote_port: String(socket.remotePort ?? ''),
        proto: '',
        method: '',
        host: '',
        uri: '',
        headers: {},
        raw_line: raw,
      },
      start: state.acceptTs,
      bytes_read: 0,
      user_id: '',
      duration: (now - state.acceptTs) / 1000,
      size: body.length,
      bytes_sent: response.length,
      status,
      resp_headers: { 'Content-Type': ['text/plain'] },
      upstream: { address: '' },
      timings: { tq: -1, tw: -1, tc: -1, tr: -1, tt: Math.round(now - state.acceptTs) },
      termination_state: 'CR--',
      conn: { actconn: this.env.counters.actconn, feconn: this.connections, beconn: this.beconn, srv_conn: this.beconn, retries: 0 },
      error: `malformed request: ${err.code ?? err.message}`,
    };
    this.env.pipeline.emit(entry);
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
   * are still logged, as aborted).
   */
  async close(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inflight > 0) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
      await Promise.race([idle, deadline]);
      clearTimeout(timer);
    }
    this.server.closeAllConnections();
    await closed;
  }
}

function firstLine(packet: Buffer): string {
  let end = packet.indexOf(10);
  if (end === -1) end = Math.min(packet.length, 8192);
  let line = packet.subarray(0, Math.min(end, 8192)).toString('latin1');
  if (line.endsWith('\r')) line = line.slice(0, -1);
  return line;
}
