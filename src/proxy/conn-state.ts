import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { nowMs } from '../core/clock.js';

/** What kflog remembers about one client connection. */
export interface ConnState {
  acceptPerf: number;
  acceptTs: number;
  requests: number;
}

const kState = Symbol('kflog.conn');
type SocketWithState = Socket & { [kState]?: ConnState };

export function markAccepted(socket: Socket): ConnState {
  const state: ConnState = { acceptPerf: performance.now(), acceptTs: nowMs(), requests: 0 };
  (socket as SocketWithState)[kState] = state;
  return state;
}

export function connState(socket: Socket): ConnState {
  return (socket as SocketWithState)[kState] ?? markAccepted(socket);
}

/** HAProxy's Tq: from accept for the first request on a connection, ~0 for the next ones on it. Counts the request. */
export function requestTq(socket: Socket, t0: number): number {
  const state = connState(socket);
  return state.requests++ === 0 ? Math.max(0, Math.round(t0 - state.acceptPerf)) : 0;
}
