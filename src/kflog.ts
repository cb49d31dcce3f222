import { withInternalCertificates } from './config/listen-tls.js';
import type { Config, ForwardConfig } from './config/types.js';
import { nowMs } from './core/clock.js';
import type { Level } from './core/entry.js';
import type { LogStats } from './emit/log.js';
import { Pipeline, ProcessLogger, type EntrySink } from './emit/pipeline.js';
import { RetiredStats } from './emit/retired-stats.js';
import { ExchangeTap, TappedSink } from './emit/tap.js';
import type { LogLink } from './handover/log-link.js';
import { LogSender, RemotePipeline } from './handover/remote-pipeline.js';
import { ForwardListener } from './proxy/listener.js';
import { Backend, ForwardRoute, Generation, type ProcessCounters } from './proxy/route.js';
import { countsOf, ForwardMeters, type ForwardCounts } from './proxy/meter.js';
import { createTarget } from './proxy/target.js';
import { traceIdFactory } from './proxy/trace.js';
import type { InFlight } from './proxy/in-flight.js';
import type { ReloadSummary } from './proxy/reload-summary.js';
import { WriterPool } from './writers/pool.js';

export type { ReloadSummary };

/** One loaded config: its generation (pipeline, trace IDs) and the backends its forwards hold. */
interface Loaded {
  config: Config;
  gen: Generation;
  backendKeys: string[];
}

export interface KflogOptions {
  /**
   * Where the logs are encoded and written. Default: a log thread of this process (or this thread, when the
   * config says `logging.thread: false`). A listener process of a cluster passes the link to its primary.
   */
  logLink?: () => LogLink;
}

interface BackendSlot {
  backend: Backend;
  refs: number;
}

/**
 * A running kflog: the pipeline, one target and one listener per forward. The CLI and the tests drive this.
 *
 * Reload builds the new config beside the running one — pipeline (sharing open files through one writer pool),
 * targets (reused when unchanged), listeners for new addresses — and only then switches: listeners whose address
 * stays are handed the new routes without closing their socket, the others are closed gracefully, and the old
 * config's pipeline is closed once its last exchange is logged. Nothing is refused, lost or logged twice; a
 * failure while building leaves the running config untouched.
 */
export class Kflog {
  /** Current listeners, in config order. */
  listeners: ForwardListener[] = [];
  private current: Loaded | undefined;
  /** Writers of pipelines on this thread (logging.thread false), shared across reloads. */
  private readonly pool = new WriterPool();
  /** The log thread, started with the first config that wants it, shared across reloads. */
  private logSender: LogSender | undefined;
  /** @internal Process-wide counts: open connections, and each forward's meter (what /metrics shows). */
  readonly counters: ProcessCounters = { actconn: 0, meters: new ForwardMeters() };
  private readonly backends = new Map<string, BackendSlot>();
  private readonly retiring = new Set<Promise<void>>();
  /** The access entries of every config this process runs, for the admin listener's live stream. */
  readonly tap = new ExchangeTap();
  /** Final counts of the configs a reload replaced. */
  private readonly retired = new RetiredStats();
  private queue: Promise<unknown> = Promise.resolve();
  private stopping: Promise<LogStats[]> | undefined;

  private constructor(private readonly options: KflogOptions) {}

  /** Starts everything or nothing: on failure what was started is stopped again and the error is rethrown. */
  static async start(config: Config, options: KflogOptions = {}): Promise<Kflog> {
    const app = new Kflog(options);
    await app.apply(config);
    return app;
  }

  get config(): Config {
    return this.loaded.config;
  }

  get pipeline(): EntrySink {
    return this.loaded.gen.pipeline;
  }

  /** @internal The current pipeline, undefined before the first config is running. */
  livePipeline(): EntrySink | undefined {
    return this.current?.gen.pipeline;
  }

  private get loaded(): Loaded {
    if (!this.current) throw new Error('kflog is not started');
    return this.current;
  }

  /** The address a forward actually listens on (its port resolved when the config said 0). */
  address(forwardId: string): string {
    const l = this.listeners.find((x) => x.cfg.id === forwardId);
    if (!l) throw new Error(`no forward "${forwardId}"`);
    return l.address;
  }

  /**
   * Switches to `config` (SIGHUP). Reloads run one at a time. Rejects — with the running config untouched — when
   * the new one cannot be started (an address in use, a target that cannot be created).
   */
  reload(config: Config): Promise<ReloadSummary> {
    if (this.stopping) return Promise.reject(new Error('kflog is stopping'));
    const next = this.queue.then(() => this.apply(config));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(parsed: Config): Promise<ReloadSummary> {
    const next = await issued(parsed);
    const prev = this.current;
    const pipeline = this.pipelineFor(next);
    const gen = new Generation(pipeline, traceIdFactory(next.traceId), this.counters);
    const backendKeys: string[] = [];
    const started: ForwardListener[] = [];
    const plan: Array<{ listener: ForwardListener; route: ForwardRoute; handover: boolean }> = [];
    try {
      // A writer that must be up to start (net/syslog with soft_start off) fails the start (or reload) here.
      await pipeline.ready();
      for (const f of next.forwards) {
        const key = backendKey(f);
        const backend = await this.acquireBackend(key, f, pipeline);
        backendKeys.push(key);
        const taken = plan.map((p) => p.listener);
        const existing = this.listenerFor(f, taken);
        if (existing && existing.secure !== (f.listenTls !== undefined)) {
          // One socket is one kind of server: node cannot turn a bound http server into an https one.
          throw new Error(`forward "${f.id}": listen_tls cannot be turned ${existing.secure ? 'off' : 'on'} on ${existing.address} by a reload: restart kflog`);
        }
        if (existing) {
          plan.push({ listener: existing, route: new ForwardRoute(f, backend, gen, existing.boundPort), handover: true });
          continue;
        }
        const route = new ForwardRoute(f, backend, gen, f.port);
        const listener = new ForwardListener(route, this.counters);
        started.push(listener);
        await listener.listen();
        plan.push({ listener, route, handover: false });
      }
    } catch (err) {
      await Promise.all(started.map((l) => l.close(0).catch(() => undefined)));
      await this.releaseBackends(backendKeys);
      // A stuck output may hold its pipeline (and the log thread, whose end waits for its file operations):
      // the refusal is said within the output deadline whatever they do.
      await atMost(pipeline.close().catch(() => undefined), next.outputDeadlineMs);
      if (!prev) await atMost(this.stopLogSender(), next.outputDeadlineMs);
      throw err;
    }

    // Commit: from here on nothing can fail.
    for (const p of plan) if (p.handover) p.listener.setRoute(p.route);
    const kept = new Set(plan.map((p) => p.listener));
    const removed = this.listeners.filter((l) => !kept.has(l));
    this.listeners = plan.map((p) => p.listener);
    this.current = { config: next, gen, backendKeys };

    const kflog = pipeline.logger('kflog');
    for (const p of plan) {
      if (p.handover) continue;
      const l = p.listener;
      kflog.info('listening', { forward: l.cfg.id, address: l.address, target: l.target.name, upstream: l.target.address });
    }
    const summary: ReloadSummary = {
      forwards: next.forwards.length,
      added: plan.filter((p) => !p.handover).map((p) => p.listener.address),
      removed: removed.map((l) => l.address),
      kept: plan.filter((p) => p.handover).map((p) => p.listener.address),
    };
    if (prev) {
      kflog.info('config reloaded', { source: next.source, ...summary });
      const retire = this.retire(prev, removed);
      this.retiring.add(retire);
      void retire.finally(() => this.retiring.delete(retire));
    }
    return summary;
  }

  private pipelineFor(config: Config): EntrySink {
    const pipeline = this.logsFor(config);
    // Only a config with an admin listener in this process pays the tap's indirection on every entry (a cluster's
    // listener process, handed its log link, has none: the primary serves admin).
    const tapped = config.admin !== undefined && this.options.logLink === undefined;
    return tapped ? new TappedSink(pipeline, this.tap) : pipeline;
  }

  private logsFor(config: Config): EntrySink {
    const link = this.options.logLink;
    if (link === undefined && !config.logThread) return new Pipeline(config.logs, this.pool);
    this.logSender ??= new LogSender(link?.());
    return new RemotePipeline(config.logs, this.logSender);
  }

  /** The log thread ends with the last pipeline that used it. */
  private async stopLogSender(): Promise<void> {
    const t = this.logSender;
    this.logSender = undefined;
    await t?.stop();
  }

  /** The running listener a forward of the new config takes over: same bound address (or same id on port 0). */
  private listenerFor(f: ForwardConfig, taken: ForwardListener[]): ForwardListener | undefined {
    return this.listeners.find((l) => {
      if (taken.includes(l) || l.cfg.host !== f.host) return false;
      return f.port === 0 ? l.cfg.port === 0 && l.cfg.id === f.id : l.boundPort === f.port;
    });
  }

  /** The old config lets its exchanges finish, then closes its pipeline (files the new one uses stay open). */
  private async retire(old: Loaded, removed: ForwardListener[]): Promise<void> {
    await Promise.all(removed.map((l) => l.close(old.config.shutdownTimeoutMs)));
    await old.gen.idle();
    await this.retired.retire(old.gen.pipeline);
    await this.releaseBackends(old.backendKeys);
  }

  private async acquireBackend(key: string, f: ForwardConfig, pipeline: EntrySink): Promise<Backend> {
    const slot = this.backends.get(key);
    if (slot) {
      slot.refs++;
      return slot.backend;
    }
    const target = await createTarget({ forward: f, kubeLogger: new CurrentPipelineLogger(this, pipeline, `kube.portforward.${f.id}`) });
    const backend = new Backend(target);
    this.backends.set(key, { backend, refs: 1 });
    return backend;
  }

  private async releaseBackends(keys: string[]): Promise<void> {
    const closing: Array<Promise<void>> = [];
    for (const key of keys) {
      const slot = this.backends.get(key);
      if (!slot || --slot.refs > 0) continue;
      this.backends.delete(key);
      closing.push(slot.backend.target.close().catch(() => undefined));
    }
    await Promise.all(closing);
  }

  /** Exchanges and tunnels still being served, on every listener (what a shutdown is waiting for). */
  inFlight(): InFlight[] {
    return this.listeners.flatMap((l) => [...l.active]);
  }

  /**
   * A second Ctrl-C: stop waiting for in-flight exchanges and cut them now (stop() goes on from there; each is
   * logged as killed, with `reason`). Starts stop() when it was not running yet.
   */
  cutInFlight(reason: string): Promise<LogStats[]> {
    for (const l of this.listeners) l.cutInFlight(reason);
    return this.stop();
  }

  /** Each forward's counts for /metrics, with its open connections now (forwards a reload removed stay counted). */
  forwardCounts(): ForwardCounts[] {
    return [...this.counters.meters.entries()].map(([id, meter]) => {
      const listeners = this.listeners.filter((l) => l.cfg.id === id);
      const connections = listeners.reduce((n, l) => n + l.connections, 0);
      return countsOf(id, meter, connections, listeners[0]?.target.portForwards);
    });
  }

  /** SIGUSR1: reopen every file, for an external logrotate. */
  reopen(): Promise<void> {
    return this.pipeline.reopen();
  }

  /** The per-log counts so far (what the exit summary prints when the flush cannot wait). */
  statsNow(): LogStats[] {
    return this.retired.total(this.current?.gen.pipeline.stats() ?? []);
  }

  /**
   * Orderly shutdown: stop accepting, let in-flight exchanges finish (deadline), close upstreams, flush every
   * log. Returns the final per-log counts (summed over the configs this process ran).
   */
  stop(deadlineMs?: number): Promise<LogStats[]> {
    this.stopping ??= (async () => {
      await this.queue;
      const loaded = this.current;
      if (!loaded) return [];
      const deadline = deadlineMs ?? loaded.config.shutdownTimeoutMs;
      await Promise.all(this.listeners.map((l) => l.close(deadline)));
      // Every connection is closed; their exchanges log on the same turn or the next.
      await Promise.race([loaded.gen.idle(), new Promise((r) => setTimeout(r, 1000).unref())]);
      await Promise.all([...this.retiring]);
      // Every open, write and close of an output has its deadline; these bound what is left (a log thread
      // that cannot end while one of its file operations hangs).
      await atMost(loaded.gen.pipeline.close(), loaded.config.outputDeadlineMs * 2);
      await atMost(this.stopLogSender(), loaded.config.outputDeadlineMs);
      await this.releaseBackends(loaded.backendKeys);
      return this.retired.total(loaded.gen.pipeline.stats());
    })();
    return this.stopping;
  }
}

/**
 * `config` with its internal listener certificates issued: chooseConfig has done it for a config the CLI chose,
 * this covers one parsed and started directly.
 */
async function issued(config: Config): Promise<Config> {
  const { config: out, problems } = await withInternalCertificates(config);
  if (problems.length > 0) throw new Error(problems.map((p) => `${p.pointer}: ${p.reason}`).join('; '));
  return out;
}

/** Waits for `work`, but no longer than `ms`. */
function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work.then(() => undefined, () => undefined), late]).finally(() => clearTimeout(timer));
}

/** A target is reused across a reload when nothing it was built from changed. */
function backendKey(f: ForwardConfig): string {
  return JSON.stringify([f.id, f.target, f.timeouts, f.tls?.digest, f.upstreamVersion]);
}


/** A target outlives a reload when unchanged, so its process messages go to whichever pipeline is current. */
class CurrentPipelineLogger extends ProcessLogger {
  constructor(
    private readonly app: Kflog,
    private readonly first: EntrySink,
    name: string,
  ) {
    super(first, name);
  }

  override log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    (this.app.livePipeline() ?? this.first).emit({ kind: 'process', ts: nowMs(), level, logger: this.name, msg, fields });
  }
}

export function formatSummary(stats: LogStats[]): string {
  return 'kflog: exit summary: ' + stats
    .map((s) => `log "${s.name}" written=${s.written} sampled_out=${s.sampledOut} dropped=${s.dropped} failed=${s.failed} max_lag_ms=${s.maxLagMs}`)
    .join('; ');
}
