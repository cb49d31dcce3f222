/** Drops are told at most this often, however many entries are dropped. */
export const DROP_REPORT_INTERVAL_MS = 1000;

/**
 * "At most one drop warning a second": the first drop schedules a report, later ones before it runs join it. Under
 * overload that is one kflog warning a second, not one per dropped entry (which would themselves be dropped).
 * What the report says is the caller's (per-log queue counts in Pipeline, entries refused at the hand-over in
 * RemotePipeline); this holds only the timing, the same for both.
 */
export class DropReporter {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly report: () => void,
    private readonly intervalMs = DROP_REPORT_INTERVAL_MS,
  ) {}

  /** An entry was dropped: a report runs within the interval, unless one is pending already or this is stopped. */
  dropped(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.report();
    }, this.intervalMs);
    // A pending report never keeps the process alive: the last one is told by flush() at close.
    this.timer.unref();
  }

  /** A pending report runs now (at close, so the drops of the last second are still told); none pending: nothing. */
  flush(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.report();
  }

  /** No report is scheduled from now on (closing); a pending one still runs on flush(). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * At close: the drops of the last second are told now, and none is scheduled after (a drop the report itself
   * causes included), so no timer outlives the pipeline.
   */
  close(): void {
    this.stop();
    this.flush();
  }
}
