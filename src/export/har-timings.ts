import type { Timings as HarTimings } from 'har-format';
import type { Timings } from '../core/entry.js';

/**
 * HAProxy's timers as HAR's phases. kflog sits between the client and the upstream, so each phase is what kflog saw
 * of it:
 * - blocked = Tw (kflog never queues: 0 once dispatched, -1 when never dispatched);
 * - dns = -1 and ssl = -1: kflog does not time them apart (undici resolves and handshakes inside Tc);
 * - connect = Tc, the upstream connection;
 * - send = Tq, the request head reaching kflog (a body streams to the upstream during Tr, so its upload is in wait);
 * - wait = Tr, from connected to the upstream's response headers;
 * - receive = the rest of Tt, the response body relayed to the client.
 * An exchange that ended before a phase was reached has that phase's remaining time in the phase it ended in
 * (a refused connect spent its time connecting, a timeout waiting): HAR's send, wait and receive are never -1, and
 * `time`, the sum of the phases that are not -1, is Tt.
 */
export interface HarPhases {
  timings: HarTimings & { blocked: number; dns: number; connect: number; ssl: number };
  /** The entry's `time`: the sum of the timings that are not -1, in ms. */
  time: number;
}

/** The phases of one exchange from its timers and its duration in seconds (what Tt is when it is -1). */
export function harPhases(t: Timings, durationSeconds: number): HarPhases {
  const send = Math.max(t.tq, 0);
  const total = t.tt >= 0 ? t.tt : Math.round(durationSeconds * 1000) + send;
  const phases = { blocked: t.tw, dns: -1, connect: t.tc, ssl: -1, send, wait: Math.max(t.tr, 0), receive: 0 };
  const known = Math.max(t.tw, 0) + Math.max(t.tc, 0) + send + phases.wait;
  const rest = Math.max(total - known, 0);
  if (t.tr >= 0) phases.receive = rest;
  else if (t.tc >= 0) phases.wait = rest;
  else if (t.tw >= 0) phases.connect = rest;
  else phases.send += rest;
  const time = Math.max(phases.blocked, 0) + Math.max(phases.connect, 0) + phases.send + phases.wait + phases.receive;
  return { timings: phases, time };
}
