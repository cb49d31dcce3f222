import { mergeStats, type LogStats } from './log.js';

/** A pipeline (or anything with per-log counts) that is retired: closed, then its final counts read. */
export interface Retirable {
  close(): Promise<void>;
  stats(): LogStats[];
}

/**
 * The final counts of what a running kflog retired — the pipelines of configs a reload replaced, and in a cluster
 * the listener processes that ended — so the exit summary counts every entry since the start, not only those of
 * what runs at the end. Kflog and the cluster's primary each keep one.
 */
export class RetiredStats {
  private readonly kept: LogStats[] = [];

  /** Closes `sink`, then keeps its counts: only after the close are they final (its queues are written). */
  async retire(sink: Retirable): Promise<void> {
    await sink.close();
    this.keep(sink.stats());
  }

  /** Keeps counts that are final already (a listener process's, reported as it stopped). */
  keep(stats: readonly LogStats[]): void {
    this.kept.push(...stats);
  }

  /** The retired counts and `live` (what still runs), summed by log name. */
  total(live: readonly LogStats[]): LogStats[] {
    return mergeStats([...this.kept, ...live]);
  }
}
