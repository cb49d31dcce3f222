import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LogStats } from '../emit/log.js';
import { DURATION_BUCKETS, METHOD_LABELS, STATUS_LABELS, type ForwardCounts } from '../proxy/meter.js';

/** What the registry reads on each scrape, and only then. */
export interface MetricsSource {
  /** Called once before each scrape: gathers what forwards() returns when it is not in this process (a cluster). */
  refresh?(): Promise<void>;
  forwards(): ForwardCounts[];
  logs(): LogStats[];
  /** Each log's `queue_bytes`, by name. */
  queueLimits(): ReadonlyMap<string, number>;
}

/** A value as prom-client's histogram hands it to its registry: the `le` label apart from the metric's own labels. */
interface BucketValue {
  metricName: string;
  labels: { le?: number | string };
  sharedLabels: { forward: string };
  value: number;
}

/**
 * prom-client's histogram, its values read from the forwards' meters on scrape instead of observed one by one
 * (observing on the hot path would cost a label lookup and a bucket search per exchange). It replaces
 * getForPromString(), which both the text exposition and get() read (prom-client 15's lib/histogram.js).
 */
class MeterHistogram extends Histogram<'forward'> {
  static readonly NAME = 'kflog_request_duration_seconds';
  static readonly HELP = 'Time from the request head to the end of the exchange, per forward.';

  constructor(private readonly source: MetricsSource, registry: Registry) {
    super({ name: MeterHistogram.NAME, help: MeterHistogram.HELP, labelNames: ['forward'], buckets: [...DURATION_BUCKETS], registers: [registry] });
  }

  async getForPromString(): Promise<{ name: string; help: string; type: string; values: BucketValue[]; aggregator: string }> {
    const name = MeterHistogram.NAME;
    const values: BucketValue[] = [];
    for (const f of this.source.forwards()) {
      const m = f;
      const forward = { forward: f.id };
      let cumulative = 0;
      for (let i = 0; i <= DURATION_BUCKETS.length; i++) {
        cumulative += m.durationBuckets[i]!;
        const le = i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf';
        values.push({ metricName: `${name}_bucket`, labels: { le }, sharedLabels: forward, value: cumulative });
      }
      values.push({ metricName: `${name}_sum`, labels: {}, sharedLabels: forward, value: m.durationSum });
      values.push({ metricName: `${name}_count`, labels: {}, sharedLabels: forward, value: cumulative });
    }
    return { name, help: MeterHistogram.HELP, type: 'histogram', values, aggregator: 'sum' };
  }
}

/**
 * kflog's Prometheus registry. Every value is built when scraped (collect()) from the counts the proxy and the
 * pipeline keep anyway; nothing here runs while nobody scrapes.
 */
export function metricsRegistry(source: MetricsSource): Registry {
  const registry = new Registry();
  const forwardCounter = <L extends string>(name: string, help: string, labelNames: L[], fill: (c: Counter<L | 'forward'>, f: ForwardCounts) => void) =>
    new Counter<L | 'forward'>({
      name, help, labelNames: ['forward', ...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const f of source.forwards()) fill(this, f);
      },
    });

  forwardCounter('kflog_requests_total', 'Exchanges ended, per forward, method and status class ("none": no response was sent).', ['method', 'status_class'], (c, f) => {
    const r = f.requests;
    for (let i = 0; i < r.length; i++) {
      if (r[i] === 0) continue;
      const method = METHOD_LABELS[Math.floor(i / STATUS_LABELS.length)]!;
      c.inc({ forward: f.id, method, status_class: STATUS_LABELS[i % STATUS_LABELS.length]! }, r[i]!);
    }
  });
  new MeterHistogram(source, registry);
  forwardCounter('kflog_received_bytes_total', 'Request body bytes read from clients (a tunnel\'s: bytes from the client), per forward.', [], (c, f) => {
    c.inc({ forward: f.id }, f.bytesIn);
  });
  forwardCounter('kflog_sent_bytes_total', 'Response body bytes sent to clients (a tunnel\'s: bytes to the client), per forward.', [], (c, f) => {
    c.inc({ forward: f.id }, f.bytesOut);
  });
  forwardCounter('kflog_upstream_failures_total', 'Exchanges the upstream side ended, per forward and HAProxy termination state (SC--: refused, sH--: headers timeout, …).', ['termination_state'], (c, f) => {
    for (const [state, n] of f.upstreamFailures) c.inc({ forward: f.id, termination_state: state }, n);
  });
  forwardCounter('kflog_kube_portforward_streams_total', 'Kubernetes port-forward streams opened (one per upstream connection), per forward.', [], (c, f) => {
    if (f.portForwards) c.inc({ forward: f.id }, f.portForwards.opened);
  });
  forwardCounter('kflog_kube_portforward_failures_total', 'Kubernetes port-forward streams that could not be opened, per forward.', [], (c, f) => {
    if (f.portForwards) c.inc({ forward: f.id }, f.portForwards.failed);
  });
  new Gauge({
    name: 'kflog_open_connections', help: 'Open client connections, per forward.', labelNames: ['forward'], registers: [registry],
    collect() {
      this.reset();
      for (const f of source.forwards()) this.set({ forward: f.id }, f.connections);
    },
  });

  // A gauge's inc() after reset() is its set(): one collect serves both kinds.
  const eachLog = (value: (s: LogStats) => number) =>
    function collect(this: Counter<'log'> | Gauge<'log'>): void {
      this.reset();
      for (const s of source.logs()) this.inc({ log: s.name }, value(s));
    };
  const logCounter = (name: string, help: string, value: (s: LogStats) => number) =>
    new Counter({ name, help, labelNames: ['log'], registers: [registry], collect: eachLog(value) });
  const logGauge = (name: string, help: string, value: (s: LogStats) => number) =>
    new Gauge({ name, help, labelNames: ['log'], registers: [registry], collect: eachLog(value) });
  logCounter('kflog_log_entries_written_total', 'Entries a log handed to its output.', (s) => s.written);
  logCounter('kflog_log_entries_sampled_out_total', 'Entries a log\'s sampling left out.', (s) => s.sampledOut);
  logCounter('kflog_log_entries_dropped_total', 'Entries a log dropped because its queue was full.', (s) => s.dropped);
  logCounter('kflog_log_entries_failed_total', 'Entries a log\'s output failed to take.', (s) => s.failed);
  logGauge('kflog_log_queue_bytes', 'Bytes a log\'s queue holds now (pending, and the batch being written).', (s) => s.queuedBytes);
  logGauge('kflog_log_queue_limit_bytes', 'A log\'s queue_bytes: past it, entries are dropped.', (s) => source.queueLimits().get(s.name) ?? 0);
  logGauge('kflog_log_lag_seconds', 'Age of the oldest entry a log accepted and has not written yet.', (s) => s.lagMs / 1000);
  return registry;
}
