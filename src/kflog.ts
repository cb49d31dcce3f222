import './encoders/index.js';
import './writers/index.js';
import type { Config } from './config/types.js';
import type { LogStats } from './emit/log.js';
import { Pipeline } from './emit/pipeline.js';
import { ForwardListener, type ProxyEnv } from './proxy/listener.js';
import { createTarget, type Target } from './proxy/target.js';
import { traceIdFactory } from './proxy/trace.js';

/** A running kflog: the pipeline, one target and one listener per forward. The CLI and the tests drive this. */
export class Kflog {
  readonly pipeline: Pipeline;
  readonly listeners: ForwardListener[] = [];
  private readonly targets: Target[] = [];
  private stopping: Promise<LogStats[]> | undefined;

  private constructor(readonly config: Config) {
    this.pipeline = new Pipeline(config.logs);
  }

  /** Starts everything or nothing: on failure what was started is stopped again and the error is rethrown. */
  static async start(config: Config): Promise<Kflog> {
    const app = new Kflog(config);
    const env: ProxyEnv = { pipeline: app.pipeline, traceId: traceIdFactory(config.traceId), counters: { actconn: 0 } };
    try {
      // A writer that must be up to start (net/syslog with soft_start off) fails the start here; others retry.
      await app.pipeline.ready();
      for (const f of config.forwards) {
        const target = await createTarget({ forward: f, kubeLogger: app.pipeline.logger(`kube.portforward.${f.id}`) });
        app.targets.push(target);
        const listener = new ForwardListener(f, target, env);
        app.listeners.push(listener);
        await listener.listen();
      }
    } catch (err) {
      await app.stop(0).catch(() => undefined);
      throw err;
    }
    const kflog = app.pipeline.logger('kflog');
    for (const l of app.listeners) {
      kflog.info('listening', { forward: l.cfg.id, address: l.address, target: l.target.backend, upstream: l.target.address });
    }
    return app;
  }

  /** The address a forward actually listens on (its port resolved when the config said 0). */
  address(forwardId: string): string {
    const l = this.listeners.find((x) => x.cfg.id === forwardId);
    if (!l) throw new Error(`no forward "${forwardId}"`);
    return l.address;
  }

  /**
   * Orderly shutdown: stop accepting, let in-flight exchanges finish (deadline), close upstreams, flush every
   * log. Returns the final per-log counts.
   */
  stop(deadlineMs = this.config.shutdownTimeoutMs): Promise<LogStats[]> {
    this.stopping ??= (async () => {
      await Promise.all(this.listeners.map((l) => l.close(deadlineMs)));
      await Promise.all(this.targets.map((t) => t.close().catch(() => undefined)));
      await this.pipeline.close();
      return this.pipeline.stats();
    })();
    return this.stopping;
  }
}

export function formatSummary(stats: LogStats[]): string {
  return 'kflog: exit summary: ' + stats
    .map((s) => `log "${s.name}" written=${s.written} sampled_out=${s.sampledOut} dropped=${s.dropped} failed=${s.failed}`)
    .join('; ');
}
