import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TlsInfo } from '../core/entry.js';
import { nowMs } from '../core/clock.js';

/** What kflog remembers about one client connection. */
export interface ConnState {
  acceptPerf: number;
  acceptTs: number;
  requests: number;
  /** The client's TLS, set once its handshake is done (a TLS listener's connections only). */
  tls?: TlsInfo;
}

const kState = Symbol('kflog.conn');
type SocketWithState = Socket & { [kState]?: ConnState };

export function markAccepted(socket: Socket): ConnState {
  const state: ConnState = { acceptPerf: performance.now(), acceptTs: nowMs(), requests: 0 };
  (socket as SocketWithState)[kState] = state;
  return state;
}

/**
 * A TLS connection's socket is another object than the one accepted: it takes over the accepted one's state (its
 * accept time counts in HAProxy's Tq, the handshake included), with the client's TLS.
 */
export function markSecured(socket: Socket, accepted: Socket | undefined, tls: TlsInfo): void {
  const state = accepted === undefined ? markAccepted(socket) : connState(accepted);
  state.tls = tls;
  (socket as SocketWithState)[kState] = state;
}

/** The client's TLS on `socket`, undefined for cleartext or a handshake not done. */
export function connTls(socket: Socket): TlsInfo | undefined {
  return (socket as SocketWithState)[kState]?.tls;
}

export function connState(socket: Socket): ConnState {
  return (socket as SocketWithState)[kState] ?? markAccepted(socket);
}

/** HAProxy's Tq: from accept for the first request on a connection, ~0 for the next ones on it. Counts the request. */
export function requestTq(socket: Socket, t0: number): number {
  const state = connState(socket);
  return state.requests++ === 0 ? Math.max(0, Math.round(t0 - state.acceptPerf)) : 0;
}
