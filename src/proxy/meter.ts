/**
 * What the proxy counts for /metrics, per forward. Plain numbers incremented where an exchange ends: no
 * registry, no labels, no allocation on the hot path. The admin listener reads them when it is scraped and only
 * then builds Prometheus' values (prom-client's collect()), so a kflog nobody scrapes pays a few additions per
 * exchange.
 */

/**
 * Upper bounds of the duration histogram, seconds: Prometheus' client default buckets (prom-client's
 * `defBuckets`), which span a proxied API call from 5 ms to 10 s.
 */
export const DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Methods counted under their own name; any other (a client may send any token) is counted as "other", so a
 * client cannot grow the number of series without bound.
 */
const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
export const METHOD_LABELS: readonly string[] = [...METHODS, 'other'];
/** Status classes; index 0 is "no response was sent" (status 0). */
export const STATUS_LABELS: readonly string[] = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

function methodIndex(method: string): number {
  const i = METHODS.indexOf(method);
  return i >= 0 ? i : METHODS.length;
}

function statusIndex(status: number): number {
  const cls = Math.floor(status / 100);
  return cls >= 1 && cls <= 5 ? cls : 0;
}

/** One forward's counts since kflog started (across reloads: a forward is known by its id). */
export class ForwardMeter {
  /** Exchanges by [method index * STATUS_LABELS.length + status index]. */
  readonly requests = new Float64Array(METHOD_LABELS.length * STATUS_LABELS.length);
  /** Exchanges with a duration ≤ DURATION_BUCKETS[i], not cumulative (made so on scrape); the last is +Inf. */
  readonly durationBuckets = new Float64Array(DURATION_BUCKETS.length + 1);
  durationSum = 0;
  /** Request body bytes read from clients. */
  bytesIn = 0;
  /** Response body bytes sent to clients. */
  bytesOut = 0;
  /** Exchanges the upstream side ended (termination state S…, s…, or PH-- for a response that is not HTTP), by state. */
  readonly upstreamFailures = new Map<string, number>();

  /** An exchange ended (relayed, tunnelled or refused by kflog). */
  exchange(method: string, status: number, seconds: number, bytesIn: number, bytesOut: number, termination: string): void {
    this.requests[methodIndex(method) * STATUS_LABELS.length + statusIndex(status)]!++;
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]!) b++;
    this.durationBuckets[b]!++;
    this.durationSum += seconds;
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
    if (termination !== '' && isUpstreamSide(termination)) {
      this.upstreamFailures.set(termination, (this.upstreamFailures.get(termination) ?? 0) + 1);
    }
  }
}

/** HAProxy's first character S (the server) or s (a server timeout), or PH: what the upstream sent was not HTTP. */
function isUpstreamSide(termination: string): boolean {
  const who = termination.charCodeAt(0);
  return who === 0x53 /* S */ || who === 0x73 /* s */ || termination.startsWith('PH');
}

/**
 * One forward's counts as plain data, what /metrics is built from: copied from the meter at scrape time, and
 * what a cluster's listener process sends its primary (structured clone over IPC), which sums them.
 */
export interface ForwardCounts {
  id: string;
  requests: number[];
  durationBuckets: number[];
  durationSum: number;
  bytesIn: number;
  bytesOut: number;
  upstreamFailures: Array<[string, number]>;
  /** Open client connections now. */
  connections: number;
  /** Kubernetes targets: port-forward streams opened and failed. */
  portForwards?: { opened: number; failed: number };
}

export function countsOf(id: string, m: ForwardMeter, connections: number, portForwards?: { readonly opened: number; readonly failed: number }): ForwardCounts {
  const counts: ForwardCounts = {
    id,
    requests: [...m.requests],
    durationBuckets: [...m.durationBuckets],
    durationSum: m.durationSum,
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    upstreamFailures: [...m.upstreamFailures],
    connections,
  };
  if (portForwards !== undefined) counts.portForwards = { opened: portForwards.opened, failed: portForwards.failed };
  return counts;
}

/** The counts of several processes summed per forward (a cluster's listener processes). */
export function sumCounts(all: ForwardCounts[]): ForwardCounts[] {
  const byId = new Map<string, ForwardCounts>();
  for (const c of all) {
    const m = byId.get(c.id);
    if (m === undefined) {
      byId.set(c.id, structuredClone(c));
      continue;
    }
    c.requests.forEach((n, i) => (m.requests[i] = (m.requests[i] ?? 0) + n));
    c.durationBuckets.forEach((n, i) => (m.durationBuckets[i] = (m.durationBuckets[i] ?? 0) + n));
    m.durationSum += c.durationSum;
    m.bytesIn += c.bytesIn;
    m.bytesOut += c.bytesOut;
    const failures = new Map(m.upstreamFailures);
    for (const [state, n] of c.upstreamFailures) failures.set(state, (failures.get(state) ?? 0) + n);
    m.upstreamFailures = [...failures];
    m.connections += c.connections;
    if (c.portForwards !== undefined) {
      m.portForwards = { opened: (m.portForwards?.opened ?? 0) + c.portForwards.opened, failed: (m.portForwards?.failed ?? 0) + c.portForwards.failed };
    }
  }
  return [...byId.values()];
}

/** Every forward's meter, by id, for the life of the process. */
export class ForwardMeters {
  private readonly byId = new Map<string, ForwardMeter>();

  of(forwardId: string): ForwardMeter {
    let m = this.byId.get(forwardId);
    if (m === undefined) this.byId.set(forwardId, (m = new ForwardMeter()));
    return m;
  }

  entries(): IterableIterator<[string, ForwardMeter]> {
    return this.byId.entries();
  }
}
