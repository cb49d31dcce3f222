import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RequestInfo } from '../core/entry.js';
import { nowMs } from '../core/clock.js';
import { connState } from './conn-state.js';
import { ExchangeRecord } from './exchange-record.js';
import { firstLine, reasonPhrase, unparsedRequest } from './http-helpers.js';
import type { ListenerSide } from './listener-side.js';

/** What kflog says when it refuses a request itself, and how the log classifies it. */
export interface Refusal {
  status: number;
  /** HAProxy's termination state: who is at fault (C client, P proxy, c client timeout) and how far it got. */
  termination: string;
  /** The access entry's `error`. */
  error: string;
  /** The request as parsed; undefined when node's parser refused it (then `rawPacket` shows what came). */
  request?: RequestInfo;
  /** Header lines added to the answer (each ending in CRLF), as CONNECT's Allow. */
  extraHeaders?: string;
  /** What node's parser refused, for the logged request's raw line. */
  rawPacket?: Buffer;
}

/**
 * Answers a request kflog will not forward, closes the connection, and logs it as one exchange. `res` is the
 * parsed request's response when there is one: it owns the socket until its response is done.
 */
export function refuse(listener: ListenerSide, socket: Socket, refusal: Refusal, res?: ServerResponse): void {
  const { status } = refusal;
  const reason = reasonPhrase(status);
  const body = `kflog: ${status} ${reason}\n`;
  let sent: number;
  if (res === undefined) {
    const response = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
      `${refusal.extraHeaders ?? ''}Connection: close\r\n\r\n${body}`;
    sent = response.length;
    socket.end(response);
  } else {
    // Answered through the response, then closed.
    res.shouldKeepAlive = false;
    res.writeHead(status, reason, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    sent = Buffer.byteLength((res as ServerResponse & { _header?: string })._header ?? '', 'latin1') + body.length;
    res.end(body);
  }
  const route = listener.route;
  // Counted from the accept, as the record times it: nothing was relayed to time it by.
  const seconds = (performance.now() - connState(socket).acceptPerf) / 1000;
  route.meter.exchange(refusal.request?.method ?? '', status, seconds, 0, body.length, refusal.termination);
  if (route.logAccess || route.logRequest) new RefusedExchange(listener, socket).log(refusal, body.length, sent);
}

/** A refused request's record: its clock runs from the accept, as nothing was relayed to time it by. */
class RefusedExchange extends ExchangeRecord {
  constructor(
    listener: ListenerSide,
    private readonly socket: Socket,
  ) {
    const state = connState(socket);
    super(listener, state.acceptPerf, state.acceptTs, -1, '');
    this.reachesUpstream = false;
  }

  log(refusal: Refusal, size: number, sent: number): void {
    const route = this.route;
    this.traceId = route.gen.traceId();
    // A request that parsed arrived as any other did, so it is logged as one (kftray writes its request block
    // from this entry); a malformed one has no request entry, and encoders show it whole from the access entry.
    if (refusal.request !== undefined && route.logRequest) {
      this.request = refusal.request;
      this.emitRequest(nowMs());
    }
    if (!route.logAccess) return;
    const raw = refusal.rawPacket;
    this.request = refusal.request ?? unparsedRequest(this.socket, raw ? firstLine(raw) : '');
    this.termination = refusal.termination;
    this.error = refusal.error;
    this.size = size;
    this.respHeaders = { 'Content-Type': ['text/plain'], 'Content-Length': [String(size)] };
    // Levelled as any exchange (docs/pipeline.md): error from 500 on (OPTIONS *, an unknown coding), else info.
    this.emitAccess(refusal.status, sent);
  }
}
