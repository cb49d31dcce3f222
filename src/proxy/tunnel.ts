import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { nowMs } from '../core/clock.js';
import { requestTq } from './conn-state.js';
import { CLIENT_ABORTED, ExchangeRecord } from './exchange-record.js';
import { classifyUpstreamError, errorCode } from './failure.js';
import { forwardableHeaders, headerMap, originForm, rawHeaderStrings, upstreamHeaders } from './headers.js';
import { reasonPhrase } from './http-helpers.js';
import { describeRequest } from './in-flight.js';
import type { Cuttable, ListenerSide } from './listener-side.js';
import { relayedBytes } from './scavenge.js';

const kUpgrade = Symbol('kflog.upgrade');
type TunnelSocket = Duplex & { [kUpgrade]?: UpgradeExchange };

/**
 * An Upgrade request (WebSocket, h2c, …): dispatched upstream through the same undici Pool as every request.
 * On 101 both sockets are joined and bytes flow both ways, counted, until both sides close; the exchange is
 * logged then, once, with the tunnel's duration and bytes each way. An upstream that declines the upgrade gets
 * its response relayed as-is (then the connection closes), and failures are answered 502/504 like any request.
 */
export class UpgradeExchange extends ExchangeRecord implements Dispatcher.DispatchHandler, Cuttable {
  /** The status the client was sent (0 while none). */
  private status = 0;
  private upstream: TunnelSocket | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private openSides = 1;

  constructor(
    listener: ListenerSide,
    private readonly req: IncomingMessage,
    private readonly client: Socket,
    private readonly head: Buffer,
  ) {
    const t0 = performance.now();
    const startTs = nowMs();
    const tDispatch = performance.now();
    super(listener, t0, startTs, requestTq(client, t0), describeRequest(req.method, req.url));
    this.tDispatch = tDispatch;
    this.admit(req);
  }

  start(): void {
    const { req, client, route } = this;
    this.opened();
    this.listener.tunnels.add(this);
    (client as TunnelSocket)[kUpgrade] = this;
    client.setTimeout(0);
    client.on('error', onClientError);
    client.on('close', onClientClose);
    client.on('drain', onClientDrain);

    const target = route.target;
    const headers = upstreamHeaders(req, target.hostHeader);
    this.upstreamOpened();
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
      this.clientLeft(false);
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
    if (this.upstream === undefined) this.upstreamReleased(); // a tunnel holds its backend until it closes
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
      if (this.termination === '' && !this.client.writableFinished) this.clientLeft(false);
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
    if (this.upstream !== undefined) this.upstreamReleased();
    this.metered(this.req.method ?? '', this.status, this.bytesRead + this.bytesIn, this.size + this.bytesOut);
    if (this.logAccess) this.emitAccessAsSent();
    this.listener.tunnels.delete(this);
    this.released();
  }

  /** The access entry, with the bytes each way once there was a tunnel (unless a skip rule on the status drops it). */
  private emitAccessAsSent(): void {
    const status = this.status;
    if (this.skippedByStatus(this.req, status)) return;
    const bytesSent = status === 0 ? 0 : this.overhead + this.size + this.bytesOut;
    const tunnel = this.upstream !== undefined ? { bytes_in: this.bytesIn, bytes_out: this.bytesOut } : undefined;
    this.emitAccess(status, bytesSent, tunnel);
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
