import { constants, type Http2Session, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { nowMs } from '../core/clock.js';
import { BodyCapture, decodableCoding } from './capture.js';
import { requestTq } from './conn-state.js';
import { CLIENT_ABORTED } from './exchange-record.js';
import { h2Fields, h2RequestInfo, h2UpstreamHeaders, pseudo, trailerStrings, type H2RequestHead } from './h2-headers.js';
import { headerMap, originForm, rawHeaderStrings } from './headers.js';
import { firstValue, reasonPhrase, responseHasBody } from './http-helpers.js';
import { describeRequest } from './in-flight.js';
import type { ListenerSide } from './listener-side.js';
import { relayedBytes } from './scavenge.js';
import { UpstreamExchange } from './upstream-exchange.js';

/** Why a client's HTTP/2 connection ended while streams were open (a GOAWAY, a protocol error), by session. */
const sessionLoss = new WeakMap<Http2Session, string>();

/** The first reason the session is known to be going is the one its open exchanges log. */
export function noteSessionLoss(session: Http2Session, reason: string): void {
  if (!sessionLoss.has(session)) sessionLoss.set(session, reason);
}

/** RFC 9113 §7's error codes, by number, for the access entry's `error`. */
const ERROR_NAMES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

export function h2ErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `error code ${code}`;
}

/** END_STREAM on the request's HEADERS frame: the request has no body. */
const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

/**
 * One HTTP/2 stream through a forward: the same exchange as an HTTP/1.1 one (Exchange), on node's stream API. The
 * request head's pseudo-headers make the logged request, the body is streamed up through undici with node's
 * flow control (a full stream buffer stops the client's window), the response streamed back with backpressure,
 * trailers passed on, and the access entry emitted once when the stream closes — completed, failed upstream, or
 * reset by the client (RST_STREAM) or with its connection (GOAWAY, a session error), which are client aborts (C…).
 */
export class H2Exchange extends UpstreamExchange {
  private readonly method: string;
  private readonly path: string;
  /** The upstream's trailers, sent when node asks for them ('wantTrailers'). */
  private trailers: OutgoingHttpHeaders | undefined;
  private status = 0;
  /** The body length the upstream's content-length announced, when it did (and the response has a body). */
  private announced: number | undefined;
  /** Kept: node takes a stream's session from it when the stream is destroyed, before 'close' classifies it. */
  private readonly session: Http2Session | undefined;

  constructor(
    listener: ListenerSide,
    private readonly stream: ServerHttp2Stream,
    private readonly head: H2RequestHead,
    flags: number,
  ) {
    const t0 = performance.now();
    const method = pseudo(head.headers, ':method');
    const path = pseudo(head.headers, ':path');
    super(listener, t0, nowMs(), requestTq(stream.session!.socket, t0), describeRequest(method, path));
    this.method = method;
    this.path = path;
    this.session = stream.session;
    this.hasReqBody = (flags & END_STREAM) === 0;
    if (this.admitHead(method, path, head, h2RequestInfo)) {
      const capture = this.route.cfg.capture;
      if (capture.requestBody && this.hasReqBody) {
        const h = head.headers;
        this.reqCapture = new BodyCapture(capture.maxBodyBytes, h['content-type'], decodableCoding(firstOf(h['content-encoding'])));
      }
    }
  }

  start(): void {
    const { stream, route } = this;
    this.opened();
    stream.on('close', () => this.closed());
    stream.on('drain', () => this.resumeUpstream?.());
    stream.on('wantTrailers', () => this.sendTrailers());
    // A reset stream errors (ERR_HTTP2_STREAM_ERROR); 'close' classifies and logs it.
    stream.on('error', noop);
    if (this.method === 'CONNECT') {
      // Extended CONNECT (WebSockets over HTTP/2) is not relayed, as CONNECT is not over HTTP/1.1.
      this.reachesUpstream = false;
      this.termination = 'PR--';
      this.error = 'CONNECT is not supported by a kflog forward';
      this.respondError(405);
      return;
    }
    const target = route.target;
    this.dispatchOpts = {
      path: target.pathPrefix + originForm(this.path),
      method: this.method,
      headers: h2UpstreamHeaders(this.head, target.hostHeader, target.proto !== undefined),
      body: null,
    };
    this.tDispatch = performance.now();
    this.dispatch();
  }

  /** The client's DATA frames; undici pulls them, so a slow upstream slows the client. */
  protected clientBody(): AsyncIterable<Buffer> {
    return this.stream as AsyncIterable<Buffer>;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // interim: HTTP/2 clients do not need the upstream's 100
    this.tHeaders = performance.now();
    this.resumeUpstream = resume;
    const stream = this.stream;
    if (this.finished || stream.destroyed) return false;
    const raw = rawHeaderStrings(rawHeaders);
    const fields = h2Fields(raw, { ':status': statusCode });
    try {
      // waitForTrailers: the upstream's trailers (gRPC's status) are only known at its end.
      stream.respond(fields, { waitForTrailers: true });
    } catch (err) {
      this.termination = 'PH--';
      this.error = 'invalid response from upstream: ' + (err as Error).message;
      this.tHeaders = -1;
      this.respondError(502);
      this.abortUpstream?.(err as Error);
      return false;
    }
    this.status = statusCode;
    const length = fields['content-length'];
    if (length !== undefined && responseHasBody(this.method, statusCode) && /^\d+$/.test(String(length))) this.announced = Number(length);
    if (this.logAccess) {
      this.respHeaders = headerMap(flatFields(fields));
      const capture = this.route.cfg.capture;
      if (capture.responseBody && responseHasBody(this.method, statusCode)) {
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
    return this.stream.write(chunk);
  }

  onComplete(trailers: unknown): void {
    this.upstreamReleased();
    if (this.announced !== undefined && this.size < this.announced && !this.stream.destroyed) {
      // undici (7.30) ends an HTTP/2 upstream's stream reset mid-body (RST_STREAM) as if it had ended cleanly (node
      // ends the readable side first, the error comes after): a body short of its content-length is that reset.
      this.termination = 'SD--';
      this.error = `upstream's response ended after ${this.size} of the ${this.announced} bytes its content-length announced`;
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const raw = trailerStrings(trailers);
    if (raw.length > 0) this.trailers = h2Fields(raw);
    if (!this.stream.destroyed) this.stream.end();
  }

  private sendTrailers(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    // Empty trailers end the stream with an empty HEADERS frame; node has no other way out of waitForTrailers.
    stream.sendTrailers(this.trailers ?? {});
  }

  onError(err: Error): void {
    this.upstreamReleased();
    if (this.finished || this.termination !== '') return;
    if (this.stream.destroyed) return; // the client reset the stream or lost its connection: 'close' logs it
    this.upstreamFailed(err);
  }

  /** Resets the stream: the HTTP/2 way of telling the client its body is short. */
  protected cutResponse(): void {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  protected respondError(status: number): void {
    const stream = this.stream;
    if (stream.destroyed || stream.headersSent) {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const body = 'kflog: ' + status + ' ' + reasonPhrase(status) + ': ' + (this.error ?? '') + '\n';
    const length = Buffer.byteLength(body);
    stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8', 'content-length': length });
    this.status = status;
    if (this.logAccess) this.respHeaders = { 'Content-Type': ['text/plain; charset=utf-8'], 'Content-Length': [String(length)] };
    this.size = length;
    stream.end(body);
  }

  /** @internal The stream closed: the exchange is over, whichever way it went. */
  closed(): void {
    if (this.finished) return;
    this.finished = true;
    const stream = this.stream;
    // rstCode is NO_ERROR for a stream both sides ended; anything else, or a response not all written, is a cut.
    const complete = stream.rstCode === constants.NGHTTP2_NO_ERROR && stream.writableFinished;
    if (!complete && this.termination === '') this.clientReset();
    if (this.upstreamActive && this.abortUpstream !== undefined) this.abortUpstream(CLIENT_ABORTED);
    this.metered(this.method, this.status, this.bytesRead, this.size);
    if (this.logAccess && !this.skippedByStatus({ method: this.method, url: this.path }, this.status)) this.emitAccess(this.status, this.status === 0 ? 0 : this.size);
    this.released();
  }

  /** The stream ended before its response did: the client's reset, its connection's end, or kflog's at shutdown. */
  private clientReset(): void {
    this.clientLeft(this.uploading());
    if (this.listener.killing) return;
    const session = this.session;
    const lost = session === undefined ? undefined : sessionLoss.get(session);
    if (lost !== undefined) this.error = lost;
    else if (session !== undefined && !session.destroyed) this.error = `client reset the stream (RST_STREAM ${h2ErrorName(this.stream.rstCode)}) before the response was complete`;
  }
}

function firstOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** HTTP/2 fields back to [name, value, …] for the log, without the :status pseudo-header. */
function flatFields(fields: OutgoingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

function noop(): void {}
