import { Command } from 'commander';
import { ConfigError, formatProblem, loadConfigFile } from '../config/load.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a config file against config.schema.json and kflog\'s own rules; prints every problem as <json-pointer>: <reason> and exits 2, or a one-line summary and exits 0')
    .requiredOption('-c, --config <file>', 'kflog.json to check')
    .action((opts: { config: string }) => {
      try {
        const cfg = loadConfigFile(opts.config);
        const names = cfg.logs.map((l) => l.name).join(', ');
        process.stdout.write(`${opts.config}: valid: ${cfg.forwards.length} forward(s) (${cfg.forwards.map((f) => f.id).join(', ')}), ${cfg.logs.length} log(s) (${names})\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) process.stderr.write(`${opts.config}: ${formatProblem(p)}\n`);
        process.exit(2);
      }
    });
}
