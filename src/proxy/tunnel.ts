import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ACCESS_MSG, REQUEST_MSG, accessLevel, type AccessEntry, type HeaderMap, type RequestEntry, type RequestInfo } from '../emit/entry.js';
import { nowMs } from '../emit/clock.js';
import { requestTq } from './conn-state.js';
import { describeRequest } from './in-flight.js';
import { classifyUpstreamError, clientAbortState, errorCode } from './failure.js';
import { forwardableHeaders, headerMap, originForm, rawHeaderStrings, upstreamHeaders } from './headers.js';
import { reasonPhrase, requestInfo } from './http-helpers.js';
import type { ForwardListener } from './listener.js';
import { LOG_ACCESS, LOG_REQUEST, type ForwardRoute } from './route.js';
import { relayedBytes } from './scavenge.js';

const kUpgrade = Symbol('kflog.upgrade');
type TunnelSocket = Duplex & { [kUpgrade]?: UpgradeExchange };

const CLIENT_ABORTED = new Error('client aborted');

/**
 * An Upgrade request (WebSocket, h2c, …): dispatched upstream through the same undici Pool as every request.
 * On 101 both sockets are joined and bytes flow both ways, counted, until both sides close; the exchange is
 * logged then, once, with the tunnel's duration and bytes each way. An upstream that declines the upgrade gets
 * its response relayed as-is (then the connection closes), and failures are answered 502/504 like any request.
 */
export class UpgradeExchange implements Dispatcher.DispatchHandler {
  private readonly route: ForwardRoute;
  private readonly t0 = performance.now();
  /** InFlight: what shutdown says it is waiting for. */
  readonly startedPerf = this.t0;
  readonly what: string;
  private readonly startTs = nowMs();
  private readonly tq: number;
  private readonly tDispatch: number;
  private tConnected = -1;
  private tHeaders = -1;
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private readonly logAccess: boolean;
  private traceId = '';
  private request: RequestInfo | undefined;
  private status = 0;
  private respHeaders: HeaderMap | undefined;
  private size = 0;
  private overhead = 0;
  private upstream: TunnelSocket | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private openSides = 1;
  private termination = '';
  private error: string | undefined;
  private finished = false;
  private upstreamActive = false;

  constructor(
    private readonly listener: ForwardListener,
    private readonly req: IncomingMessage,
    private readonly client: Socket,
    private readonly head: Buffer,
  ) {
    const route = listener.route;
    this.route = route;
    this.tDispatch = performance.now();
    this.tq = requestTq(client, this.t0);
    this.what = describeRequest(req.method, req.url);
    const entries = route.entriesFor(req.method ?? '', req.url ?? '');
    const logRequest = (entries & LOG_REQUEST) !== 0;
    const logAccess = (entries & LOG_ACCESS) !== 0;
    this.logAccess = logAccess;
    if (logRequest || logAccess) {
      this.traceId = route.gen.traceId();
      this.request = requestInfo(req);
      if (logRequest) {
        const entry: RequestEntry = {
          kind: 'request', ts: this.startTs, level: 'info', logger: route.requestLogger, msg: REQUEST_MSG,
          trace_id: this.traceId, forward: route.info, request: this.request,
        };
        route.gen.pipeline.emit(entry);
      }
    }
  }

  start(): void {
    const { req, client, route, listener } = this;
    listener.active.add(this);
    listener.tunnels.add(this);
    route.gen.begin();
    (client as TunnelSocket)[kUpgrade] = this;
    client.setTimeout(0);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    client.on('drain', onClientDrain);

    const target = route.target;
    const headers = upstreamHeaders(req, target.hostHeader);
    this.upstreamActive = true;
    route.backend.active++;
    target.dispatcher.dispatch(
      {
        path: target.pathPrefix + originForm(req.url),
        method: req.method ?? 'GET',
        headers,
        body: null,
        upgrade: req.headers.upgrade ?? 'websocket',
      },
      this,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.finished) {
      abort(CLIENT_ABORTED);
      return;
    }
    this.abortUpstream = abort;
    this.tConnected = performance.now();
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.tHeaders = performance.now();
    const upstream = socket as TunnelSocket;
    const client = this.client;
    if (this.finished || client.destroyed) {
      upstream.destroy();
      return;
    }
    const headers = rawHeaderStrings(rawHeaders ?? []);
    this.status = statusCode;
    let head = 'HTTP/1.1 ' + statusCode + ' Switching Protocols\r\n';
    for (let i = 0; i < headers.length; i += 2) head += headers[i] + ': ' + headers[i + 1] + '\r\n';
    head += '\r\n';
    this.overhead = Buffer.byteLength(head, 'latin1');
    if (this.logAccess) this.respHeaders = headerMap(headers);
    client.write(head, 'latin1');

    this.upstream = upstream;
    this.openSides = 2;
    upstream[kUpgrade] = this;
    upstream.on('error', onUpstreamError);
    upstream.on('close', onUpstreamClose);
    upstream.on('data', countOut);
    client.on('data', countIn);
    if (this.head.length > 0) {
      this.bytesIn += this.head.length;
      upstream.write(this.head);
    }
    upstream.pipe(client);
    client.pipe(upstream);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true;
    // The upstream declined the upgrade: relay its answer, delimited by closing the connection.
    this.tHeaders = performance.now();
    this.resumeUpstream = resume;
    if (this.finished || this.client.destroyed) return false;
    const forwarded = forwardableHeaders(rawHeaderStrings(rawHeaders));
    this.status = statusCode;
    let head = 'HTTP/1.1 ' + statusCode + ' ' + statusText + '\r\n';
    for (let i = 0; i < forwarded.length; i += 2) head += forwarded[i] + ': ' + forwarded[i + 1] + '\r\n';
    head += 'Connection: close\r\n\r\n';
    this.overhead = Buffer.byteLength(head, 'latin1');
    if (this.logAccess) this.respHeaders = headerMap(forwarded);
    this.client.write(head, 'latin1');
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    relayedBytes(chunk.length);
    return this.client.write(chunk);
  }

  onComplete(): void {
    this.upstreamDone();
    this.client.end();
  }

  onError(err: Error): void {
    this.upstreamDone();
    if (this.finished || this.termination !== '') return;
    if (this.client.destroyed) {
      this.termination = clientAbortState(this.tConnected >= 0, false, this.tHeaders >= 0);
      this.error = 'client closed the connection before the response was complete';
      return;
    }
    const code = errorCode(err);
    this.error = err.message || code;
    const failure = classifyUpstreamError(code, this.tConnected >= 0, this.tHeaders >= 0);
    this.termination = failure.termination;
    if (this.tHeaders >= 0) {
      this.client.destroy();
      return;
    }
    this.status = failure.status;
    const body = 'kflog: ' + failure.status + ' ' + reasonPhrase(failure.status) + ': ' + this.error + '\n';
    this.size = Buffer.byteLength(body);
    const head = 'HTTP/1.1 ' + failure.status + ' ' + reasonPhrase(failure.status) +
      '\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ' + this.size + '\r\nConnection: close\r\n\r\n';
    this.overhead = Buffer.byteLength(head, 'latin1');
    if (this.logAccess) {
      this.respHeaders = { 'Content-Type': ['text/plain; charset=utf-8'], 'Content-Length': [String(this.size)] };
    }
    this.client.end(head + body);
  }

  private upstreamDone(): void {
    if (!this.upstreamActive || this.upstream !== undefined) return; // a tunnel holds its backend until it closes
    this.upstreamActive = false;
    this.route.backend.active--;
  }

  /** @internal A side of the tunnel failed. */
  sideError(fromClient: boolean, err: Error): void {
    // Before the tunnel exists a client error is just its way of leaving: the close handler classifies that.
    if (this.upstream !== undefined && this.termination === '') {
      this.termination = fromClient ? 'CD--' : 'SD--';
      this.error = (fromClient ? 'client: ' : 'upstream: ') + (err.message || (err as { code?: string }).code);
    }
  }

  /** @internal One side closed. The other cannot send to it any more: end it once what is queued is flushed. */
  sideClosed(fromClient: boolean): void {
    if (fromClient && this.upstream === undefined) {
      // No tunnel (yet): the client left, or the declined (or failed) upgrade's answer was sent in full.
      if (this.termination === '' && !this.client.writableFinished) {
        this.termination = clientAbortState(this.tConnected >= 0, false, this.tHeaders >= 0);
        this.error ??= 'client closed the connection before the response was complete';
      }
      if (this.upstreamActive && this.abortUpstream !== undefined) this.abortUpstream(CLIENT_ABORTED);
      this.finish();
      return;
    }
    const other = fromClient ? this.upstream : this.client;
    if (other !== undefined && !other.destroyed) {
      other.end();
      other.once('finish', destroySelf);
    }
    if (--this.openSides === 0) this.finish();
  }

  /** @internal Shutdown deadline passed: cut the tunnel (it is still logged). */
  kill(): void {
    if (this.termination === '') {
      this.termination = this.upstream !== undefined ? 'KD--' : 'KH--';
      this.error = this.listener.killReason;
    }
    this.upstream?.destroy();
    this.client.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.upstream !== undefined && this.upstreamActive) {
      this.upstreamActive = false;
      this.route.backend.active--;
    }
    if (this.logAccess) this.emitAccess();
    this.listener.tunnels.delete(this);
    this.listener.active.delete(this);
    this.listener.exchangeDone();
    this.route.gen.end();
  }

  private emitAccess(): void {
    const route = this.route;
    const status = this.status;
    if (route.skip.byStatus && route.skip.skipsResponse(this.req.method ?? '', this.req.url ?? '', status)) return;
    const now = performance.now();
    const entry: AccessEntry = {
      kind: 'access',
      ts: nowMs(),
      level: accessLevel(status),
      logger: route.accessLogger,
      msg: ACCESS_MSG,
      trace_id: this.traceId,
      forward: route.info,
      request: this.request!,
      start: this.startTs - this.tq,
      bytes_read: 0,
      user_id: '',
      duration: (now - this.t0) / 1000,
      size: this.size,
      bytes_sent: status === 0 ? 0 : this.overhead + this.size + this.bytesOut,
      status,
      resp_headers: this.respHeaders ?? {},
      upstream: { address: route.target.address },
      timings: {
        tq: this.tq,
        tw: 0,
        tc: this.tConnected >= 0 ? Math.round(this.tConnected - this.tDispatch) : -1,
        tr: this.tHeaders >= 0 && this.tConnected >= 0 ? Math.round(this.tHeaders - this.tConnected) : -1,
        tt: Math.round(now - this.t0) + this.tq,
      },
      termination_state: this.termination === '' ? '----' : this.termination,
      conn: {
        actconn: route.gen.counters.actconn,
        feconn: this.listener.connections,
        beconn: route.backend.active,
        srv_conn: route.backend.active,
        retries: 0,
      },
    };
    if (this.upstream !== undefined) entry.tunnel = { bytes_in: this.bytesIn, bytes_out: this.bytesOut };
    if (this.error !== undefined) entry.error = this.error;
    route.gen.pipeline.emit(entry);
  }

  /** @internal */
  clientDrained(): void {
    if (this.upstream === undefined && this.resumeUpstream !== undefined) this.resumeUpstream();
  }

  /** @internal */
  counted(fromClient: boolean, n: number): void {
    relayedBytes(n);
    if (fromClient) this.bytesIn += n;
    else this.bytesOut += n;
  }
}

function onClientError(this: TunnelSocket, err: Error): void {
  this[kUpgrade]?.sideError(true, err);
}

function onUpstreamError(this: TunnelSocket, err: Error): void {
  this[kUpgrade]?.sideError(false, err);
}

function onClientClose(this: TunnelSocket): void {
  this[kUpgrade]?.sideClosed(true);
}

function onUpstreamClose(this: TunnelSocket): void {
  this[kUpgrade]?.sideClosed(false);
}

function onClientDrain(this: TunnelSocket): void {
  this[kUpgrade]?.clientDrained();
}

function countIn(this: TunnelSocket, chunk: Buffer): void {
  this[kUpgrade]?.counted(true, chunk.length);
}

function countOut(this: TunnelSocket, chunk: Buffer): void {
  this[kUpgrade]?.counted(false, chunk.length);
}

function destroySelf(this: Duplex): void {
  this.destroy();
}
