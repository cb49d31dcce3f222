import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, embeddedDefault, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { formatSummary, Kflog } from '../kflog.js';
import { ListenError } from '../proxy/listener.js';

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
        const msg = err instanceof ListenError ? err.message : (err as Error).message;
        process.stderr.write(`kflog: ${msg}\n`);
        process.exit(1);
      }
      process.stderr.write(`kflog: config from ${config.source}\n` + tryLine(app));
      const shutdown = (signal: string): void => {
        process.stderr.write(`kflog: ${signal}: finishing in-flight exchanges (up to ${config.shutdownTimeoutMs} ms) and flushing logs\n`);
        void app.stop().then((stats) => {
          process.stderr.write(formatSummary(stats) + '\n', () => process.exit(0));
        });
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGUSR1', () => {
        void app.pipeline.reopen();
      });
    });
}
