import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  ACCESS_MSG,
  REQUEST_MSG,
  accessLevel,
  type AccessEntry,
  type HeaderMap,
  type Level,
  type RequestEntry,
  type RequestInfo,
  type UpstreamInfo,
} from '../core/entry.js';
import { nowMs } from '../core/clock.js';
import type { BodyCapture } from './capture.js';
import { clientAbortState } from './failure.js';
import { requestInfo } from './http-helpers.js';
import type { InFlight } from './in-flight.js';
import type { ListenerSide } from './listener-side.js';
import { LOG_ACCESS, LOG_REQUEST, type ForwardRoute } from './route.js';

/** What undici is told when the client no longer waits for the upstream request. */
export const CLIENT_ABORTED = new Error('client aborted');
/** The access entry's `error` for a client that left before its response was complete. */
export const CLIENT_GONE = 'client closed the connection before the response was complete';

/** An access entry's `tunnel`: bytes each way through a 101. */
export type TunnelBytes = NonNullable<AccessEntry['tunnel']>;

/**
 * What kflog logs about one exchange, whichever way it went — relayed (Exchange), tunnelled (UpgradeExchange) or
 * refused by kflog itself: its clock and HAProxy timers, how it ended, its request and access entries, and its
 * place in the listener's and the generation's counts. The access entry is built here and nowhere else.
 *
 * A base class rather than a member, as undici shares its handler rules: an exchange stays one object, the hot
 * path allocating nothing more per request than it did when each kind kept these fields itself.
 */
export class ExchangeRecord implements InFlight {
  /** The route the exchange started under: the config that saw it begin logs it, whatever a reload does. */
  readonly route: ForwardRoute;
  /** performance.now() when the exchange's clock started (InFlight: shutdown says how long it has waited). */
  readonly startedPerf: number;
  /** Epoch ms at startedPerf: the request entry's `ts`. */
  protected readonly startTs: number;
  /** HAProxy's Tq (the wait for the request head before startedPerf), -1 when no request head was timed. */
  protected readonly tq: number;
  protected tDispatch = -1;
  protected tConnected = -1;
  protected tHeaders = -1;
  protected abortUpstream: ((err?: Error) => void) | undefined;
  protected resumeUpstream: (() => void) | undefined;
  /** An access entry will be built (some log wants it and no skip rule matched the head). */
  protected logAccess = false;
  protected traceId = '';
  protected request: RequestInfo | undefined;
  protected respHeaders: HeaderMap | undefined;
  protected reqCapture: BodyCapture | undefined;
  protected respCapture: BodyCapture | undefined;
  /** Pod that served this exchange (Kubernetes targets), learnt from the upstream socket. */
  protected pod: string | undefined;
  /** The entry names the target as its upstream; a request kflog refused never went to one. */
  protected reachesUpstream = true;
  /** Request body bytes read from the client (Caddy's bytes_read). */
  protected bytesRead = 0;
  /** Response body bytes sent to the client (Caddy's size). */
  protected size = 0;
  /** Response bytes beyond the body: status line and headers, chunked framing (HAProxy's bytes_read counts them). */
  protected overhead = 0;
  /** HAProxy's termination state once classified, '' while nothing went wrong. */
  protected termination = '';
  protected error: string | undefined;
  protected finished = false;
  /** The exchange holds one of its backend's active requests (beconn). */
  protected upstreamActive = false;
  protected retries = 0;

  constructor(
    protected readonly listener: ListenerSide,
    startedPerf: number,
    startTs: number,
    tq: number,
    /** InFlight: what shutdown says it is waiting for. */
    readonly what: string,
  ) {
    this.route = listener.route;
    this.startedPerf = startedPerf;
    this.startTs = startTs;
    this.tq = tq;
  }

  /**
   * Decides from the request head which entries the exchange gets (a skip rule may drop both) and emits its
   * request entry now when it gets one. True when the exchange is logged at all.
   */
  protected admit(req: IncomingMessage): boolean {
    return this.admitHead(req.method ?? '', req.url ?? '', req, requestInfo);
  }

  /**
   * admit() for any kind of request head (an HTTP/2 stream's headers): `describe(head)` is the logged request,
   * built only when some entry needs it.
   */
  protected admitHead<H>(method: string, uri: string, head: H, describe: (head: H) => RequestInfo): boolean {
    const route = this.route;
    const entries = route.entriesFor(method, uri);
    this.logAccess = (entries & LOG_ACCESS) !== 0;
    if (entries === 0) return false;
    this.traceId = route.gen.traceId();
    this.request = describe(head);
    if ((entries & LOG_REQUEST) !== 0) this.emitRequest(this.startTs);
    return true;
  }

  /** The exchange is under way: shutdown waits for it, and its generation owes an entry. */
  protected opened(): void {
    this.listener.active.add(this);
    this.route.gen.begin();
  }

  /** The exchange is over and logged: nothing waits for it any more. */
  protected released(): void {
    this.listener.active.delete(this);
    this.listener.exchangeDone();
    this.route.gen.end();
  }

  /**
   * The exchange ended: counted for /metrics, logged or not. `status` is what the client got (0: none); the bytes
   * are bodies (a tunnel's: what went each way).
   */
  protected metered(method: string, status: number, bytesIn: number, bytesOut: number): void {
    const seconds = (performance.now() - this.startedPerf) / 1000;
    this.route.meter.exchange(method, status, seconds, bytesIn, bytesOut, this.termination);
  }

  /** The upstream request is being sent: it counts in its backend's beconn until released. */
  protected upstreamOpened(): void {
    this.upstreamActive = true;
    this.route.backend.active++;
  }

  protected upstreamReleased(): void {
    if (!this.upstreamActive) return;
    this.upstreamActive = false;
    this.route.backend.active--;
  }

  /** undici has a connection for the request (DispatchHandler.onConnect). */
  onConnect(abort: (err?: Error) => void): void {
    // Finished, or already classified before undici got a connection (a body refused in the head's packet, a
    // tunnel cut at shutdown): the request is not sent.
    if (this.finished || this.termination !== '') {
      abort(CLIENT_ABORTED);
      return;
    }
    this.abortUpstream = abort;
    this.tConnected = performance.now();
  }

  /** The client connection closed before the response was complete: its own doing, or kflog's at shutdown. */
  protected clientLeft(uploading: boolean): void {
    const state = clientAbortState(this.tConnected >= 0, uploading, this.tHeaders >= 0);
    if (this.listener.killing) {
      this.termination = 'K' + state.slice(1);
      this.error = this.listener.killReason;
    } else {
      this.termination = state;
      this.error = CLIENT_GONE;
    }
  }

  private upstreamInfo(): UpstreamInfo {
    if (!this.reachesUpstream) return { address: '' };
    const target = this.route.target;
    const info: UpstreamInfo = { address: target.address };
    if (this.pod !== undefined) info.pod = this.pod;
    if (target.tlsInsecure) info.tls_insecure = true;
    if (target.proto !== undefined) info.proto = target.proto;
    return info;
  }

  /** A skip rule on the response status drops the access entry (the request entry, if any, is already out). */
  protected skippedByStatus(req: { method?: string | undefined; url?: string | undefined }, status: number): boolean {
    const skip = this.route.skip;
    return skip.byStatus && skip.skipsResponse(req.method ?? '', req.url ?? '', status);
  }

  protected emitRequest(ts: number): void {
    const route = this.route;
    const entry: RequestEntry = {
      kind: 'request',
      ts,
      level: 'info',
      logger: route.requestLogger,
      msg: REQUEST_MSG,
      trace_id: this.traceId,
      forward: route.info,
      request: this.request!,
    };
    route.gen.pipeline.emit(entry);
  }

  /**
   * The access entry, from what the exchange recorded plus what only its kind knows: the status the client got
   * (0 for none), every byte it was sent, and a tunnel's bytes each way.
   */
  protected emitAccess(
    status: number, bytesSent: number, tunnel?: TunnelBytes, level: Level = accessLevel(status),
  ): void {
    const route = this.route;
    const now = performance.now();
    const request = this.request!;
    if (this.reqCapture !== undefined) request.body = this.reqCapture.result();
    const backend = route.backend;
    const tq = this.tq;
    // The wait for the request head came before the exchange's clock started, yet belongs to it.
    const waited = tq > 0 ? tq : 0;
    const entry: AccessEntry = {
      kind: 'access',
      ts: nowMs(),
      level,
      logger: route.accessLogger,
      msg: ACCESS_MSG,
      trace_id: this.traceId,
      forward: route.info,
      request,
      start: this.startTs - waited,
      bytes_read: this.bytesRead,
      user_id: '',
      duration: (now - this.startedPerf) / 1000,
      size: this.size,
      bytes_sent: bytesSent,
      status,
      resp_headers: this.respHeaders ?? {},
      upstream: this.upstreamInfo(),
      timings: {
        tq,
        tw: this.tDispatch >= 0 ? 0 : -1,
        tc: this.tConnected >= 0 ? Math.round(this.tConnected - this.tDispatch) : -1,
        tr: this.tHeaders >= 0 && this.tConnected >= 0 ? Math.round(this.tHeaders - this.tConnected) : -1,
        tt: Math.round(now - this.startedPerf) + waited,
      },
      termination_state: this.termination === '' ? '----' : this.termination,
      conn: {
        actconn: route.gen.counters.actconn,
        feconn: this.listener.connections,
        beconn: backend.active,
        srv_conn: backend.active,
        retries: this.retries,
      },
    };
    if (this.respCapture !== undefined) entry.resp_body = this.respCapture.result();
    if (tunnel !== undefined) entry.tunnel = tunnel;
    if (this.error !== undefined) entry.error = this.error;
    route.gen.pipeline.emit(entry);
  }
}
