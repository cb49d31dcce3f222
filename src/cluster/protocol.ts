import type { Config } from '../config/types.js';
import type { LogStats } from '../emit/log.js';
import type { FromPrimaryLog } from '../handover/primary-link.js';
import type { ToLogSide } from '../handover/log-protocol.js';
import type { ForwardCounts } from '../proxy/meter.js';
import type { ReloadSummary } from '../proxy/reload-summary.js';

/** Messages between a listener process and the cluster's primary, over the IPC channel node:cluster opens. */

/** A listener process's own messages, beside the log protocol. */
export type ToPrimaryControl =
  /** Listening for the primary's messages: it may send the config. */
  | { op: 'hello' }
  /** Listening on every forward; `tryLines` tell people what to curl. */
  | { op: 'ready'; tryLines: string }
  /** The config could not be started (the process ends). */
  | { op: 'failed'; error: string }
  | { op: 'reloaded'; summary?: ReloadSummary; error?: string }
  /** Stopped: its final counts, with what it dropped before the primary saw it; the process ends next. */
  | { op: 'stopped'; stats: LogStats[] }
  /** The answer to `counts`: this process's forward counts for /metrics. */
  | { op: 'counts'; id: number; forwards: ForwardCounts[] };

export type FromListener = ToLogSide | ToPrimaryControl;

export type FromPrimaryControl =
  | { op: 'start'; config: Config }
  | { op: 'reload'; config: Config }
  /** Finish in-flight exchanges (the config's shutdown_timeout), close the logs, exit. */
  | { op: 'stop' }
  /** A second Ctrl-C: cut the in-flight exchanges now (logged as killed, with `reason`), then stop. */
  | { op: 'cut'; reason: string }
  /** The admin listener is scraped: send the forward counts (asked only then, so an unscraped cluster sends none). */
  | { op: 'counts'; id: number };

export type FromPrimary = FromPrimaryLog | FromPrimaryControl;
