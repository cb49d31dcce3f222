import { Command } from 'commander';
import { chooseConfig, ConfigError, formatProblem } from '../config/load.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description(
      "check a config as `kflog run` would load it (--config FILE, else ./kflog.json, else the embedded default): " +
        "config.schema.json, kflog's own rules, each encoder's and writer's options, listen host names; prints every " +
        'problem as <json-pointer>: <reason> and exits 2, or a one-line summary and exits 0',
    )
    .option('-c, --config <file>', 'kflog.json to check (default: ./kflog.json, else the embedded default)')
    .action(async (opts: { config?: string }) => {
      try {
        const cfg = await chooseConfig(opts.config);
        const names = cfg.logs.map((l) => l.name).join(', ');
        process.stdout.write(`${cfg.source}: valid: ${cfg.forwards.length} forward(s) (${cfg.forwards.map((f) => f.id).join(', ')}), ${cfg.logs.length} log(s) (${names})\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) process.stderr.write(`${err.source}: ${formatProblem(p)}\n`);
        process.exit(2);
      }
    });
}
