import type { Config } from '../config/types.js';
import type { LogStats } from '../emit/log.js';
import type { Kflog } from '../kflog.js';
import type { ForwardCounts } from '../proxy/meter.js';
import type { AdminSources, ExchangeQueries } from './server.js';

function queueLimits(config: Config): ReadonlyMap<string, number> {
  return new Map(config.logs.map((l) => [l.name, l.queueBytes]));
}

/** What the admin listener shows of a kflog running in this process. */
export function kflogSources(app: Kflog, exchanges: ExchangeQueries | undefined): AdminSources {
  return {
    config: () => app.config,
    tap: app.tap,
    exchanges,
    metrics: { forwards: () => app.forwardCounts(), logs: () => app.statsNow(), queueLimits: () => queueLimits(app.config) },
  };
}

/** The cluster's primary as the admin listener reads it (src/cluster/primary.ts). */
export interface PrimaryView {
  readonly current: Config;
  statsNow(): LogStats[];
  /** The listener processes' forward counts, summed; asked of each on every scrape. */
  forwardCounts(): Promise<ForwardCounts[]>;
}

/**
 * What a cluster's primary shows: it writes every log, so the per-log counts are its own; the forwards' counts
 * are asked of the listener processes on each scrape. The live stream is not there: the exchanges are served,
 * and tapped, in the listener processes, which hand the primary only their encoded batches.
 */
export function primarySources(primary: PrimaryView, exchanges: ExchangeQueries | undefined): AdminSources {
  let forwards: ForwardCounts[] = [];
  return {
    config: () => primary.current,
    exchanges,
    metrics: {
      refresh: async () => {
        forwards = await primary.forwardCounts();
      },
      forwards: () => forwards,
      logs: () => primary.statsNow(),
      queueLimits: () => queueLimits(primary.current),
    },
  };
}
