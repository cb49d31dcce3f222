import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, embeddedDefault, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { formatSummary, Kflog } from '../kflog.js';

export function chooseConfig(path: string | undefined): Config {
  if (path) return loadConfigFile(path);
  if (existsSync('kflog.json')) return loadConfigFile('kflog.json');
  return embeddedDefault();
}

function tryLine(app: Kflog): string {
  const lines = app.listeners.map((l) => {
    const path = 'builtin' in l.cfg.target ? '/api/users' : '/';
    return `  curl -i http://${l.address}${path}`;
  });
  return `kflog: listening; try:\n${lines.join('\n')}\n`;
}

/**
 * SIGHUP: read the config again (the same --config, or ./kflog.json, or the embedded default) and switch to it.
 * An invalid or unstartable config is reported and the running one keeps serving.
 */
async function reload(app: Kflog, path: string | undefined): Promise<void> {
  const kflog = app.pipeline.logger('kflog');
  let config: Config;
  try {
    config = chooseConfig(path);
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`kflog: SIGHUP: invalid config ${msg}\nkflog: SIGHUP: keeping the running config\n`);
    kflog.error('reload failed, keeping the running config', { error: msg });
    return;
  }
  try {
    const s = await app.reload(config);
    process.stderr.write(
      `kflog: SIGHUP: reloaded config from ${config.source}: ${s.forwards} forward(s); ` +
      `kept ${s.kept.length}, added ${s.added.length}, removed ${s.removed.length}\n` +
      s.added.map((a) => `kflog: listening on ${a}\n`).join(''),
    );
  } catch (err) {
    const msg = (err as Error).message;
    process.stderr.write(`kflog: SIGHUP: cannot start the new config: ${msg}\nkflog: SIGHUP: keeping the running config\n`);
    kflog.error('reload failed, keeping the running config', { error: msg });
  }
}

export function runCommand(): Command {
  return new Command('run')
    .description('run the proxy: --config FILE, else ./kflog.json, else the embedded default (a demo forward on 127.0.0.1:8080 to the builtin sample API)')
    .option('-c, --config <file>', 'kflog.json to use')
    .action(async (opts: { config?: string }) => {
      let config: Config;
      try {
        config = chooseConfig(opts.config);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`kflog: invalid config ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      let app: Kflog;
      try {
        app = await Kflog.start(config);
      } catch (err) {
        // ListenError and friends carry a sentence meant for people: no stack trace.
        process.stderr.write(`kflog: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const shutdown = (signal: string): void => {
        process.stderr.write(`kflog: ${signal}: finishing in-flight exchanges (up to ${app.config.shutdownTimeoutMs} ms) and flushing logs\n`);
        void app.stop().then((stats) => {
          process.stderr.write(formatSummary(stats) + '\n', () => process.exit(0));
        });
      };
      // Handlers go in before kflog says it is ready: a signal sent on seeing that line must find them.
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGUSR1', () => {
        void app.pipeline.reopen();
      });
      process.on('SIGHUP', () => {
        void reload(app, opts.config);
      });
      process.stderr.write(`kflog: config from ${config.source}\n` + tryLine(app));
    });
}
