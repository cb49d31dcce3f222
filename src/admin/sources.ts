import type { Config } from '../config/types.js';
import type { LogStats } from '../emit/log.js';
import type { Kflog } from '../kflog.js';
import type { AdminSources, ExchangeQueries } from './server.js';
import type { ForwardMetrics } from './metrics.js';

function queueLimits(config: Config): ReadonlyMap<string, number> {
  return new Map(config.logs.map((l) => [l.name, l.queueBytes]));
}

/** What the admin listener shows of a kflog running in this process. */
export function kflogSources(app: Kflog, exchanges: ExchangeQueries | undefined): AdminSources {
  return {
    config: () => app.config,
    tap: app.tap,
    exchanges,
    metrics: {
      forwards: (): ForwardMetrics[] =>
        [...app.counters.meters.entries()].map(([id, meter]) => {
          const listeners = app.listeners.filter((l) => l.cfg.id === id);
          const connections = listeners.reduce((n, l) => n + l.connections, 0);
          const portForwards = listeners[0]?.target.portForwards;
          return portForwards ? { id, meter, connections, portForwards } : { id, meter, connections };
        }),
      logs: () => app.statsNow(),
      queueLimits: () => queueLimits(app.config),
    },
  };
}

/**
 * What a cluster's primary shows: it writes every log, so the per-log counts are whole, but the exchanges are
 * served (and counted, and tapped) in the listener processes, which do not report them here.
 */
export function primarySources(primary: { current: Config; statsNow(): LogStats[] }, exchanges: ExchangeQueries | undefined): AdminSources {
  return {
    config: () => primary.current,
    exchanges,
    metrics: { forwards: () => [], logs: () => primary.statsNow(), queueLimits: () => queueLimits(primary.current) },
  };
}
