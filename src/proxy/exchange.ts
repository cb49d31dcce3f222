import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { nowMs } from '../core/clock.js';
import { BodyCapture, decodableCoding } from './capture.js';
import { requestTq } from './conn-state.js';
import { CLIENT_ABORTED } from './exchange-record.js';
import { hexLength } from './failure.js';
import { forwardableHeaders, headerMap, originForm, rawHeaderStrings, upstreamHeaders } from './headers.js';
import { firstValue, hasBody, reasonPhrase, responseHasBody } from './http-helpers.js';
import { describeRequest } from './in-flight.js';
import type { ListenerSide } from './listener-side.js';
import { relayedBytes } from './scavenge.js';
import { UpstreamExchange } from './upstream-exchange.js';

const kExchange = Symbol('kflog.exchange');
type ResWithExchange = ServerResponse & { [kExchange]?: Exchange };
type ResInternals = ServerResponse & { _header?: string | null; chunkedEncoding?: boolean };

/** "HTTP/1.1 100 Continue\r\n\r\n", as node writes it. */
const CONTINUE_BYTES = 25;

/**
 * One request/response exchange through a forward. It is the undici dispatch handler itself (no per-chunk
 * closures): request head in → request entry → dispatch upstream (request body streamed) → response streamed
 * back with backpressure → access entry, exactly once, when the client side of the exchange closes — whether the
 * response completed, failed upstream, or the client went away.
 */
export class Exchange extends UpstreamExchange {
  private chunked = false;
  /** The client socket's bytesWritten when this exchange began: what it took of this response is measured from here. */
  private socketBase = 0;
  /** abort_on_close: the client's FIN ends the exchange (HAProxy's abortonclose). */
  private onClientFin: (() => void) | undefined;

  constructor(
    listener: ListenerSide,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const t0 = performance.now();
    super(listener, t0, nowMs(), requestTq(req.socket, t0), describeRequest(req.method, req.url));
    this.hasReqBody = hasBody(req);
    if (this.admit(req)) {
      const capture = this.route.cfg.capture;
      if (capture.requestBody && this.hasReqBody) {
        this.reqCapture = new BodyCapture(
          capture.maxBodyBytes, req.headers['content-type'], decodableCoding(req.headers['content-encoding']));
      }
    }
  }

  start(): void {
    const { req, res, route } = this;
    this.opened();
    (res as ResWithExchange)[kExchange] = this;
    res.on('close', onResponseClose);
    res.on('drain', onResponseDrain);
    const socket = req.socket;
    this.socketBase = socket.bytesWritten;
    if (route.cfg.abortOnClose) {
      this.onClientFin = () => this.clientClosed();
      if (socket.readableEnded) {
        this.clientClosed();
        return;
      }
      socket.once('end', this.onClientFin);
    }

    const target = route.target;
    this.dispatchOpts = {
      path: target.pathPrefix + originForm(req.url),
      method: req.method ?? 'GET',
      headers: upstreamHeaders(req, target.hostHeader),
      body: null,
    };
    this.tDispatch = performance.now();
    this.dispatch();
  }

  protected clientBody(): AsyncIterable<Buffer> {
    return this.req as AsyncIterable<Buffer>;
  }

  /** Called (through undici's diagnostics channel) with the socket that carries the request upstream. */
  upstreamSocket(socket: object): void {
    this.pod = this.route.target.podOf?.(socket);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: node answers 100-continue itself
    this.tHeaders = performance.now();
    this.resumeUpstream = resume;
    const res = this.res;
    if (this.finished || res.destroyed) return false;
    const forwarded = forwardableHeaders(rawHeaderStrings(rawHeaders));
    // Stopping: a keep-alive client would send its next request on this connection, and node would serve it
    // for as long as it kept doing so. `Connection: close` tells it to go, as HAProxy's soft-stop does.
    if (this.listener.draining) res.shouldKeepAlive = false;
    try {
      res.writeHead(statusCode, statusText, forwarded);
    } catch (err) {
      // node refuses some header bytes llhttp accepted: the response cannot be relayed as it is.
      this.termination = 'PH--';
      this.error = 'invalid response from upstream: ' + (err as Error).message;
      this.tHeaders = -1;
      this.respondError(502);
      this.abortUpstream?.(err as Error);
      return false;
    }
    if (this.logAccess) {
      // What the client is sent, as Caddy logs it: the upstream's headers minus hop-by-hop ones.
      this.respHeaders = headerMap(forwarded);
      const r = res as ResInternals;
      this.overhead = Buffer.byteLength(r._header ?? '', 'latin1') + this.interimBytes();
      this.chunked = r.chunkedEncoding === true;
      const capture = this.route.cfg.capture;
      if (capture.responseBody && responseHasBody(this.req.method, statusCode)) {
        this.respCapture = new BodyCapture(
          capture.maxBodyBytes, firstValue(this.respHeaders['Content-Type']),
          decodableCoding(firstValue(this.respHeaders['Content-Encoding'])));
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    relayedBytes(chunk.length);
    if (this.respCapture !== undefined) this.respCapture.add(chunk);
    if (this.chunked) this.overhead += hexLength(chunk.length) + 4;
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.upstreamReleased();
    if (this.chunked) this.overhead += 5; // "0\r\n\r\n"
    this.res.end();
  }

  onError(err: Error): void {
    this.upstreamReleased();
    if (this.finished || this.termination !== '') return; // already classified (client went first, or kflog cut it)
    if (this.req.socket.destroyed) {
      // The client left and took the upstream request with it; res 'close' logs it.
      this.clientLeft(this.uploading());
      return;
    }
    this.upstreamFailed(err);
  }

  /** All that is left is to cut the client connection, so it sees a short body. (No error argument: node would
   * report it as a client error.) */
  protected cutResponse(): void {
    this.res.destroy();
  }

  /**
   * node's parser refused the request body after the head was handed over (a bad chunk, an unknown coding): a
   * malformed request, not a client abort. The upstream request is cut and the client answered 400 if it can be.
   */
  malformedBody(reason: string): void {
    if (this.finished || this.termination !== '') return;
    this.termination = 'CR--';
    this.error = 'malformed request: ' + reason;
    this.abortUpstream?.(new Error(this.error));
    this.respondError(400);
  }

  /** abort_on_close: the client shut its write side before its response was complete; it is abandoned. */
  private clientClosed(): void {
    if (this.finished || this.res.writableFinished) return;
    this.clientLeft(this.uploading());
    this.res.destroy();
  }

  /** What the client's socket took of this exchange's response: written out, not still queued in kflog. */
  private socketAccepted(): number {
    const s = this.req.socket;
    const accepted = s.bytesWritten - s.writableLength - this.socketBase;
    return Number.isFinite(accepted) && accepted > 0 ? accepted : 0;
  }

  protected respondError(status: number): void {
    const res = this.res;
    if (res.destroyed || res.headersSent) {
      res.destroy();
      return;
    }
    const body = 'kflog: ' + status + ' ' + reasonPhrase(status) + ': ' + (this.error ?? '') + '\n';
    const length = Buffer.byteLength(body);
    // The request body may still be arriving: do not keep the connection for a next request behind it.
    if ((this.hasReqBody && !this.req.complete) || this.listener.draining) res.shouldKeepAlive = false;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': length });
    if (this.logAccess) {
      this.respHeaders = { 'Content-Type': ['text/plain; charset=utf-8'], 'Content-Length': [String(length)] };
      this.overhead = Buffer.byteLength((res as ResInternals)._header ?? '', 'latin1') + this.interimBytes();
    }
    this.size = length;
    res.end(body);
  }

  /** node answered `Expect: 100-continue` itself, before the request reached kflog: those bytes went out too. */
  private interimBytes(): number {
    const expect = this.req.headers.expect;
    return expect !== undefined && expect.toLowerCase() === '100-continue' ? CONTINUE_BYTES : 0;
  }

  /** @internal res 'close': the exchange is over, whether the response finished or the client went away. */
  closed(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.onClientFin !== undefined) this.req.socket.off('end', this.onClientFin);
    if (!this.res.writableFinished && this.termination === '') this.clientLeft(this.uploading());
    if (this.upstreamActive && this.abortUpstream !== undefined) this.abortUpstream(CLIENT_ABORTED);
    this.metered(this.req.method ?? '', this.res.headersSent ? this.res.statusCode : 0, this.bytesRead, this.size);
    if (this.logAccess) this.emitAccessAsSent();
    this.released();
  }

  /** The status and bytes the client really got, then the access entry (unless a skip rule on the status drops it). */
  private emitAccessAsSent(): void {
    const res = this.res;
    let status = res.headersSent ? res.statusCode : 0;
    let bytesSent = status === 0 ? 0 : this.overhead + this.size;
    if (status !== 0 && !res.writableFinished) {
      // Cut short: only what the socket really took counts, and a client that took nothing got no response.
      bytesSent = Math.min(bytesSent, this.socketAccepted());
      if (bytesSent === 0) status = 0;
    }
    if (this.skippedByStatus(this.req, status)) return;
    this.emitAccess(status, bytesSent);
  }

  /** @internal */
  drained(): void {
    if (this.resumeUpstream !== undefined) this.resumeUpstream();
  }
}

/** The exchange a parsed request's response belongs to, if kflog is relaying it. */
export function exchangeOf(res: ServerResponse): Exchange | undefined {
  return (res as ResWithExchange)[kExchange];
}

function onResponseClose(this: ResWithExchange): void {
  this[kExchange]?.closed();
}

function onResponseDrain(this: ResWithExchange): void {
  this[kExchange]?.drained();
}
