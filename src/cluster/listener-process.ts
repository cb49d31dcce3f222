import type { Config } from '../config/types.js';
import type { LogStats } from '../emit/log.js';
import type { LogLink } from '../handover/log-link.js';
import { PrimaryProcessLink } from '../handover/primary-link.js';
import type { ForwardCounts } from '../proxy/meter.js';
import type { ReloadSummary } from '../proxy/reload-summary.js';
import type { FromPrimaryControl, ToPrimaryControl } from './protocol.js';

function tell(msg: ToPrimaryControl): void {
  process.send?.(msg);
}

/** What a listener process runs and drives: a Kflog, which the CLI passes in (the cluster sits below it). */
export interface ListenerApp {
  reload(config: Config): Promise<ReloadSummary>;
  stop(): Promise<LogStats[]>;
  cutInFlight(reason: string): Promise<unknown>;
  /** Each forward's counts, for the primary's /metrics. */
  forwardCounts(): ForwardCounts[];
}

/** Starts the app for a config, its logs going through `logLink` (the link to the primary). */
export type StartListenerApp<App extends ListenerApp> = (config: Config, logLink: () => LogLink) => Promise<App>;

/**
 * One listener process of a cluster (`listener_processes` > 1): serves every forward of the config the primary
 * sends, and hands its entries to the primary, which encodes and writes them. The primary decides when to
 * start, reload and stop; signals a terminal sends to the whole group are the primary's to act on.
 */
export function runListenerProcess<App extends ListenerApp>(startApp: StartListenerApp<App>, tryLines: (app: App) => string): void {
  let app: App | undefined;
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.on('SIGUSR1', () => undefined);
  // Killed on its own (not by the primary): finish in-flight exchanges, then the primary starts another.
  process.once('SIGTERM', () => void stop());

  async function start(config: Config): Promise<void> {
    try {
      app = await startApp(config, () => new PrimaryProcessLink());
      tell({ op: 'ready', tryLines: tryLines(app) });
    } catch (err) {
      tell({ op: 'failed', error: (err as Error).message });
      process.exitCode = 1;
      process.disconnect();
    }
  }

  async function reload(config: Config): Promise<void> {
    try {
      const summary: ReloadSummary = await app!.reload(config);
      tell({ op: 'reloaded', summary });
    } catch (err) {
      tell({ op: 'reloaded', error: (err as Error).message });
    }
  }

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      const stats = (await app?.stop()) ?? [];
      // Exit once the counts are on their way: the channel sends them before the process ends.
      process.send?.({ op: 'stopped', stats } satisfies ToPrimaryControl, () => process.exit(0));
    })();
    return stopping;
  }

  process.on('message', (msg: FromPrimaryControl) => {
    switch (msg.op) {
      case 'start':
        void start(msg.config);
        return;
      case 'reload':
        void reload(msg.config);
        return;
      case 'stop':
        void stop();
        return;
      case 'cut':
        void app?.cutInFlight(msg.reason);
        void stop();
        return;
      case 'counts':
        tell({ op: 'counts', id: msg.id, forwards: app?.forwardCounts() ?? [] });
        return;
    }
  });
  tell({ op: 'hello' });
}
