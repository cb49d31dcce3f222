import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import {
  ACCESS_MSG,
  REQUEST_MSG,
  type AccessEntry,
  type CapturedBody,
  type HeaderMap,
  type RequestEntry,
  type RequestInfo,
} from '../emit/entry.js';
import { nowMs } from '../emit/clock.js';
import { BodyCapture } from './capture.js';
import { forwardableHeaders, headerMap, rawHeaderStrings } from './headers.js';
import type { ForwardListener } from './listener.js';
import { connState } from './conn-state.js';

const kExchange = Symbol('kflog.exchange');
type ResWithExchange = ServerResponse & { [kExchange]?: Exchange };

/** Headers kflog sets itself on the way up; the client's copies are replaced (X-Forwarded-For is appended to). */
const SET_BY_PROXY = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'host']);

/**
 * One request/response exchange through a forward. It is the undici dispatch handler itself (no per-chunk
 * closures): request in → request entry → dispatch upstream → stream the response back → access entry once.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private readonly t0 = performance.now();
  private readonly startTs = nowMs();
  private readonly tq: number;
  private tDispatch = -1;
  private tConnected = -1;
  private tHeaders = -1;
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resumeUpstream: (() => void) | undefined;
  private readonly logging: boolean;
  private readonly traceId: string;
  private request: RequestInfo | undefined;
  private respHeaders: HeaderMap = {};
  private reqCapture: BodyCapture | undefined;
  private respCapture: BodyCapture | undefined;
  private bytesRead = 0;
  private size = 0;
  private sentAtHeaders = -1;
  private termination = '';
  private error: string | undefined;
  private logged = false;
  private upstreamActive = false;

  constructor(
    private readonly listener: ForwardListener,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    const state = connState(req.socket);
    // HAProxy's Tq: from accept for the first request on a connection, ~0 for the next ones on it.
    this.tq = state.requests++ === 0 ? Math.max(0, Math.round(this.t0 - state.acceptPerf)) : 0;
    this.logging = listener.logAccess || listener.logRequest;
    this.traceId = this.logging ? listener.env.traceId() : '';
  }

  start(): void {
    const { req, res, listener } = this;
    const target = listener.target;
    listener.inflight++;
    (res as ResWithExchange)[kExchange] = this;
    res.on('close', onResponseClose);
    res.on('drain', onResponseDrain);

    if (this.logging) {
      this.request = requestInfo(req);
      if (listener.capture.requestBody && hasBody(req)) {
        this.reqCapture = new BodyCapture(listener.capture.maxBodyBytes, req.headers['content-type']);
      }
      if (listener.logRequest) this.emitRequest();
    }

    const headers = forwardableHeaders(req.rawHeaders, SET_BY_PROXY);
    const remote = req.socket.remoteAddress ?? '';
    const xff = req.headers['x-forwarded-for'];
    headers.push('x-forwarded-for', xff ? `${xff}, ${stripV4Mapped(remote)}` : stripV4Mapped(remote));
    headers.push('x-forwarded-proto', 'http');
    if (req.headers.host !== undefined) headers.push('x-forwarded-host', req.headers.host);
    const host = target.hostHeader ?? req.headers.host;
    if (host !== undefined) headers.push('host', host);

    this.tDispatch = performance.now();
    this.upstreamActive = true;
    listener.beconn++;
    target.dispatcher.dispatch(
      {
        path: target.pathPrefix + (req.url ?? '/'),
        method: req.method ?? 'GET',
        headers,
        // undici takes async iterables (documented), though its typings list only Readable.
        body: hasBody(req) ? (this.requestBody() as unknown as Dispatcher.DispatchOptions['body']) : null,
      },
      this,
    );
  }

  /** Streams the client's body upstream while counting it (and keeping a bounded prefix when capturing). */
  private async *requestBody(): AsyncGenerator<Buffer> {
    for await (const chunk of this.req as AsyncIterable<Buffer>) {
      this.bytesRead += chunk.length;
      this.reqCapture?.add(chunk);
      yield chunk;
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    this.tConnected = performance.now();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx informational: node answers 100-continue itself
    this.tHeaders = performance.now();
    this.resumeUpstream = resume;
    const forwarded = forwardableHeaders(rawHeaderStrings(rawHeaders));
    if (this.logging) {
      // What the client is sent, as Caddy logs it: the upstream's headers minus hop-by-hop ones.
      this.respHeaders = headerMap(forwarded);
      if (this.listener.capture.responseBody) {
        const ct = this.respHeaders['Content-Type'];
        this.respCapture = new BodyCapture(this.listener.capture.maxBodyBytes, ct?.[0]);
      }
    }
    const res = this.res;
    if (res.destroyed) return false;
    this.sentAtHeaders = (res.socket as Socket | null)?.bytesWritten ?? 0;
    res.writeHead(statusCode, statusText, forwarded);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    this.respCapture?.add(chunk);
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.upstreamDone();
    this.res.end();
  }

  onError(err: Error): void {
    this.upstreamDone();
    if (this.termination !== '') return; // the client went first; its abort is why upstream failed
    const code = (err as { code?: string }).code ?? '';
    const headersIn = this.tHeaders >= 0;
    this.error = err.message || code;
    if (!headersIn) {
      let status = 502;
      if (code === 'UND_ERR_CONNECT_TIMEOUT') {
        status = 504;
        this.termination = 'sC--';
      } else if (code === 'UND_ERR_HEADERS_TIMEOUT') {
        status = 504;
        this.termination = 'sH--';
      } else if (this.tConnected < 0 || isConnectError(code)) {
        this.termination = 'SC--';
      } else {
        this.termination = 'SH--';
      }
      this.respondError(status);
      return;
    }
    // The response had started: all we can do is cut the client connection so it sees a truncated body.
    this.termination = code === 'UND_ERR_BODY_TIMEOUT' ? 'sD--' : 'SD--';
    this.res.destroy(err);
  }

  private respondError(status: number): void {
    const res = this.res;
    if (res.destroyed || res.headersSent) {
      res.destroy();
      return;
    }
    const body = `kflog: ${status} ${status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}: ${this.error ?? ''}\n`;
    this.sentAtHeaders = (res.socket as Socket | null)?.bytesWritten ?? 0;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private upstreamDone(): void {
    if (!this.upstreamActive) return;
    this.upstreamActive = false;
    this.listener.beconn--;
  }

  /** @internal res 'close': the exchange is over, whether the response finished or the client went away. */
  closed(): void {
    const res = this.res;
    if (!res.writableFinished && this.termination === '') {
      this.termination = this.tHeaders >= 0 ? 'CD--' : this.tConnected >= 0 ? 'CH--' : 'CC--';
      this.error ??= 'client closed the connection before the response was complete';
      this.abortUpstream?.(new Error('client aborted'));
    }
    this.upstreamDone();
    this.listener.inflight--;
    if (this.listener.logAccess && !this.logged) this.emitAccess();
    this.listener.exchangeDone();
  }

  private emitRequest(): void {
    const entry: RequestEntry = {
      kind: 'request',
      ts: this.startTs,
      level: 'info',
      logger: this.listener.requestLogger,
      msg: REQUEST_MSG,
      trace_id: this.traceId,
      forward: this.listener.info,
      request: this.request!,
    };
    this.listener.env.pipeline.emit(entry);
  }

  private emitAccess(): void {
    this.logged = true;
    const res = this.res;
    const now = performance.now();
    const status = res.headersSent ? res.statusCode : 0;
    const request = this.request!;
    if (this.reqCapture) request.body = this.reqCapture.result();
    const sent = this.sentAtHeaders >= 0 ? ((res.socket as Socket | null)?.bytesWritten ?? this.sentAtHeaders) - this.sentAtHeaders : 0;
    const l = this.listener;
    const entry: AccessEntry = {
      kind: 'access',
      ts: nowMs(),
      level: status >= 500 || status === 0 ? 'error' : 'info',
      logger: l.accessLogger,
      msg: ACCESS_MSG,
      trace_id: this.traceId,
      forward: l.info,
      request,
      start: this.startTs - this.tq,
      bytes_read: this.bytesRead,
      user_id: '',
      duration: (now - this.t0) / 1000,
      size: this.size,
      bytes_sent: sent,
      status,
      resp_headers: this.respHeaders,
      upstream: { address: l.target.address },
      timings: {
        tq: this.tq,
        tw: 0,
        tc: this.tConnected >= 0 ? Math.round(this.tConnected - this.tDispatch) : -1,
        tr: this.tHeaders >= 0 ? Math.round(this.tHeaders - this.tConnected) : -1,
        tt: Math.round(now - this.t0) + this.tq,
      },
      termination_state: this.termination === '' ? '----' : this.termination,
      conn: { actconn: l.env.counters.actconn, feconn: l.connections, beconn: l.beconn, srv_conn: l.beconn, retries: 0 },
    };
    if (this.respCapture) entry.resp_body = this.respCapture.result() as CapturedBody;
    if (this.error !== undefined) entry.error = this.error;
    l.env.pipeline.emit(entry);
  }

  /** @internal */
  drained(): void {
    this.resumeUpstream?.();
  }
}

function onResponseClose(this: ResWithExchange): void {
  this[kExchange]?.closed();
}

function onResponseDrain(this: ResWithExchange): void {
  this[kExchange]?.drained();
}

function isConnectError(code: string): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ||
    code === 'EAI_AGAIN';
}

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function requestInfo(req: IncomingMessage): RequestInfo {
  return {
    remote_ip: stripV4Mapped(req.socket.remoteAddress ?? ''),
    remote_port: String(req.socket.remotePort ?? ''),
    proto: 'HTTP/' + req.httpVersion,
    method: req.method ?? '',
    host: req.headers.host ?? '',
    uri: req.url ?? '',
    headers: headerMap(req.rawHeaders),
  };
}
