import cluster from 'node:cluster';
import { Command } from 'commander';
import { chooseConfig, ConfigError } from '../config/load.js';
import { servesInternalLeaf } from '../config/listen-tls.js';
import type { Config } from '../config/types.js';
import { Kflog, type ReloadSummary } from '../kflog.js';
import { AdminAddressTaken, AdminServer, type AdminSources } from '../admin/server.js';
import { kflogSources, primarySources } from '../admin/sources.js';
import { storeQueries } from './admin-store.js';
import { pkiPaths } from '../pki/paths.js';
import { shellQuote } from './shell-quote.js';
import { handleSignals, type SignalTarget } from './signals.js';
import type { LogStats } from '../emit/log.js';
import type { InFlight } from '../proxy/in-flight.js';

/**
 * Starts the admin listener the config asks for. Its default address taken (a second kflog) is said and kflog
 * runs without it; an address the config wrote that cannot be bound stops kflog (`stop`) and exits 1, as a
 * forward's address does. It keeps the address and store of the config it started with until a restart.
 */
async function startAdmin(config: Config, sources: AdminSources, stop: () => Promise<unknown>): Promise<AdminServer | undefined> {
  if (config.admin === undefined) return undefined;
  try {
    return await AdminServer.start(config.admin, sources);
  } catch (err) {
    process.stderr.write(`kflog: ${(err as Error).message}\n`);
    if (err instanceof AdminAddressTaken) return undefined;
    await stop();
    process.exit(1);
  }
}

/** The admin lines of the start message, beside the curl line: the API and the viewer to open in a browser. */
function adminLine(admin: AdminServer | undefined): string {
  return admin === undefined ? '' : `kflog: admin: ${admin.url}/metrics and ${admin.url}/api/\nkflog: viewer: ${admin.url}/\n`;
}

/** A running kflog as its signals act on it: one process (Kflog) or the primary of listener processes. */
interface Running {
  stop(): Promise<LogStats[]>;
  cutInFlight(reason: string): Promise<LogStats[]>;
  statsNow(): LogStats[];
  inFlight?(): InFlight[];
  reopen(): Promise<void>;
}

/** What the signals do to `running`, whose config `current()` is after any reloads; the admin listener closes first. */
function signalTarget(running: Running, current: () => Config, admin: AdminServer | undefined, reload: () => void): SignalTarget {
  return {
    shutdownTimeoutMs: () => current().shutdownTimeoutMs,
    outputDeadlineMs: () => current().outputDeadlineMs,
    stop: async () => {
      await admin?.close();
      return running.stop();
    },
    cutInFlight: (reason) => running.cutInFlight(reason),
    statsNow: () => running.statsNow(),
    ...(running.inFlight ? { inFlight: () => running.inFlight!() } : {}),
    reopen: () => void running.reopen(),
    reload,
  };
}

/** One warning per forward whose upstream certificate is not checked: it must not pass unnoticed. */
function insecureLines(config: Config): string {
  return config.forwards
    .filter((f) => f.tls?.insecureSkipVerify === true)
    .map((f) => `kflog: warning: forward "${f.id}": tls.insecure_skip_verify is on: the upstream's certificate is not checked, anyone on the way can read and change its traffic\n`)
    .join('');
}

function tryLine(app: Kflog): string {
  const lines = app.listeners.map((l) => {
    const path = 'builtin' in l.cfg.target ? '/api/users' : '/';
    // The internal CA is no client's root yet: the line that works names it (`kflog ca` says how to trust it for good).
    const ca = servesInternalLeaf(l.cfg.listenTls) ? `--cacert ${shellQuote(pkiPaths().rootCert)} ` : '';
    return `  curl -i ${ca}${l.secure ? 'https' : 'http'}://${l.address}${path}`;
  });
  return `kflog: listening; try:\n${lines.join('\n')}\n`;
}

/**
 * SIGHUP: read the config again (the same --config, or ./kflog.json, or the embedded default) and switch to it.
 * An invalid or unstartable config is reported and the running one keeps serving.
 */
async function reload(app: Kflog, path: string | undefined): Promise<void> {
  const kflog = app.pipeline.logger('kflog');
  const config = await reloadedConfig(path, (msg) => kflog.error('reload failed, keeping the running config', { error: msg }));
  if (config === undefined) return;
  try {
    process.stderr.write(insecureLines(config));
    process.stderr.write(reloadedLines(config, await app.reload(config)));
  } catch (err) {
    const msg = (err as Error).message;
    process.stderr.write(`kflog: SIGHUP: cannot start the new config: ${msg}\nkflog: SIGHUP: keeping the running config\n`);
    kflog.error('reload failed, keeping the running config', { error: msg });
  }
}

/** The config to switch to on SIGHUP, or undefined (reported) when it is invalid. */
async function reloadedConfig(path: string | undefined, failed: (msg: string) => void): Promise<Config | undefined> {
  try {
    return await chooseConfig(path);
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`kflog: SIGHUP: invalid config ${msg}\nkflog: SIGHUP: keeping the running config\n`);
    failed(msg);
    return undefined;
  }
}

function reloadedLines(config: Config, s: ReloadSummary): string {
  return (
    `kflog: SIGHUP: reloaded config from ${config.source}: ${s.forwards} forward(s); ` +
    `kept ${s.kept.length}, added ${s.added.length}, removed ${s.removed.length}\n` +
    s.added.map((a) => `kflog: listening on ${a}\n`).join('')
  );
}

/** Starts kflog, or says why it cannot and exits 1. */
async function startedOrExit<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    // ListenError and friends carry a sentence meant for people: no stack trace.
    process.stderr.write(`kflog: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

type Primary = Awaited<ReturnType<typeof import('../cluster/primary.js').ClusterPrimary.start>>['primary'];

/** SIGHUP with listener processes: the new config goes to each; one that cannot start it keeps the running one. */
async function reloadPrimary(primary: Primary, config: Config, path: string | undefined): Promise<void> {
  const next = await reloadedConfig(path, (msg) => primary.kflog.error('reload failed, keeping the running config', { error: msg }));
  if (next === undefined) return;
  if (next.listenerProcesses !== config.listenerProcesses) {
    process.stderr.write(`kflog: SIGHUP: listener_processes stays ${config.listenerProcesses} until a restart\n`);
  }
  const answers = await primary.reload(next);
  const failed = answers.filter((a) => a.error !== undefined);
  for (const a of failed) {
    process.stderr.write(`kflog: SIGHUP: listener process ${a.n} cannot start the new config: ${a.error}; it keeps the running one\n`);
    primary.kflog.error('reload failed, keeping the running config', { listener: a.n, error: a.error });
  }
  const ok = answers.find((a) => a.summary !== undefined);
  if (ok) process.stderr.write(reloadedLines(next, ok.summary!));
}

/**
 * `listener_processes` > 1: this process forks the listener processes and writes the logs of all of them. The
 * signals act as with one process; SIGHUP sends the new config to each listener process.
 */
async function runPrimary(config: Config, path: string | undefined): Promise<void> {
  // Loaded only with listener processes: one process (the default) carries none of it.
  const { ClusterPrimary: Primary } = await import('../cluster/primary.js');
  const { primary, tryLines } = await startedOrExit(() => Primary.start(config));
  const admin = await startAdmin(config, primarySources(primary, storeQueries(config)), () => primary.stop());
  handleSignals(signalTarget(primary, () => primary.current, admin, () => void reloadPrimary(primary, config, path)));
  process.stderr.write(
    `kflog: config from ${config.source}\n` +
    `kflog: ${config.listenerProcesses} listener processes (pids ${primary.pids.join(', ')}); this one (pid ${process.pid}) writes the logs\n` +
    tryLines + adminLine(admin),
  );
}

export function runCommand(): Command {
  return new Command('run')
    .description('run the proxy: --config FILE, else ./kflog.json, else the embedded default (a demo forward on 127.0.0.1:8080 to the builtin sample API)')
    .option('-c, --config <file>', 'kflog.json to use')
    .action(async (opts: { config?: string }) => {
      if (cluster.isWorker) {
        const { runListenerProcess } = await import('../cluster/listener-process.js');
        runListenerProcess((config, logLink) => Kflog.start(config, { logLink }), tryLine);
        return;
      }
      let config: Config;
      try {
        config = await chooseConfig(opts.config);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`kflog: invalid config ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      process.stderr.write(insecureLines(config));
      if (config.listenerProcesses > 1) {
        await runPrimary(config, opts.config);
        return;
      }
      const app = await startedOrExit(() => Kflog.start(config));
      const admin = await startAdmin(config, kflogSources(app, storeQueries(config)), () => app.stop());
      // Handlers go in before kflog says it is ready: a signal sent on seeing that line must find them.
      handleSignals(signalTarget(app, () => app.config, admin, () => void reload(app, opts.config)));
      process.stderr.write(`kflog: config from ${config.source}\n` + tryLine(app) + adminLine(admin));
    });
}
