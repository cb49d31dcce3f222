import type { ForwardConfig } from '../config/types.js';
import type { ForwardInfo } from '../core/entry.js';
import type { EntrySink } from '../emit/pipeline.js';
import type { ForwardMeter, ForwardMeters } from './meter.js';
import { SkipRules } from './skip.js';
import type { Target } from './target.js';
import type { TraceIdFactory } from './trace.js';

/** Counters shared by every listener of the process, across reloads. */
export interface ProcessCounters {
  /** Open client connections of the whole process (HAProxy's actconn). */
  actconn: number;
  /** What /metrics shows of each forward, kept across reloads. */
  readonly meters: ForwardMeters;
}

/**
 * One loaded config's logging side: its pipeline and trace IDs, and how many exchanges it still owes an entry.
 * An exchange keeps the generation it started under, so a reload never moves an exchange half-way to another
 * config: each exchange is logged exactly once, by the config that saw it begin.
 */
export class Generation {
  /** Exchanges (and tunnels) started under this generation and not yet logged. */
  inflight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly pipeline: EntrySink,
    readonly traceId: TraceIdFactory,
    readonly counters: ProcessCounters,
  ) {}

  begin(): void {
    this.inflight++;
  }

  end(): void {
    if (--this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once no exchange of this generation is left. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** A target plus its live request count; shared by the routes of successive configs when unchanged. */
export class Backend {
  /** Requests in flight to it (HAProxy's beconn; srv_conn too, a kflog backend having one server). */
  active = 0;
  constructor(readonly target: Target) {}
}

/** entriesFor's bits: the exchange gets a request entry. */
export const LOG_REQUEST = 1;
/** entriesFor's bits: the exchange gets an access entry. */
export const LOG_ACCESS = 2;

/** Everything an exchange needs to know about its forward under one config: built once, read per request. */
export class ForwardRoute {
  readonly info: ForwardInfo;
  readonly requestLogger: string;
  readonly accessLogger: string;
  /** Some log wants this forward's request entries (else none is built). */
  readonly logRequest: boolean;
  /** Some log wants this forward's access entries (else none is built). */
  readonly logAccess: boolean;
  readonly skip: SkipRules;
  readonly target: Target;
  /** Where this forward's exchanges are counted for /metrics (counted whether or not they are logged). */
  readonly meter: ForwardMeter;

  constructor(
    readonly cfg: ForwardConfig,
    readonly backend: Backend,
    readonly gen: Generation,
    listenPort: number,
  ) {
    this.target = backend.target;
    this.info = { id: cfg.id, listen_port: listenPort, backend: backend.target.name };
    this.requestLogger = `http.log.request.${cfg.id}`;
    this.accessLogger = `http.log.access.${cfg.id}`;
    this.logRequest = cfg.logEnabled && gen.pipeline.wants(this.requestLogger);
    this.logAccess = cfg.logEnabled && gen.pipeline.wants(this.accessLogger);
    this.skip = new SkipRules(cfg.skip);
    this.meter = gen.counters.meters.of(cfg.id);
  }

  /**
   * Which entries an exchange with this request head gets: none when no log wants them or a skip rule matches.
   * Returned as a bit set (1 = request entry, 2 = access entry) so the hot path allocates nothing.
   */
  entriesFor(method: string, url: string): number {
    if (!this.logRequest && !this.logAccess) return 0;
    if (this.skip.any && this.skip.skipsRequest(method, url)) return 0;
    return (this.logRequest ? LOG_REQUEST : 0) | (this.logAccess ? LOG_ACCESS : 0);
  }

  /** The port became known (listen on port 0): entries must carry the real one. */
  setListenPort(port: number): void {
    this.info.listen_port = port;
  }
}
