import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { importKftray } from '../kftray/import.js';

/** Where the command writes; tests pass their own. */
export interface ImportIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Read a file ("-" is stdin). */
  readFile(path: string): string;
}

const processIo: ImportIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
};

/**
 * `kflog import-kftray FILE [-o OUT]`: kftray's exported configs → kflog config JSON on stdout (or OUT); entries
 * kflog cannot serve, and adaptations, on stderr. Exit 1 when no entry can be served, 2 on unreadable input.
 */
export function importKftrayCommand(io: ImportIo = processIo): Command {
  const cmd = new Command('import-kftray');
  return cmd
    .description(
      "turn kftray's exported configs (JSON) into a kflog config: one forward per service/pod entry, kftray-format " +
        'HTTP logs where kftray had them on; entries kflog cannot serve (udp, proxy, expose) are listed on stderr',
    )
    .argument('<file>', 'kftray export (JSON array of configs); "-" reads stdin')
    .option('-o, --output <file>', 'write the config to this file instead of stdout')
    .action((file: string, opts: { output?: string }) => {
      const fail = (message: string, exitCode: number): never =>
        cmd.error(`kflog import-kftray: ${message}`, { exitCode, code: 'kflog.import-kftray' });
      let input: unknown;
      try {
        input = JSON.parse(io.readFile(file));
      } catch (err) {
        fail(`cannot read ${file === '-' ? 'stdin' : file} as JSON: ${(err as Error).message}`, 2);
      }
      const { config, skipped, notes } = importKftray(input);
      for (const n of notes) io.stderr.write(`note    ${n.alias}: ${n.note}\n`);
      for (const s of skipped) io.stderr.write(`skipped ${s.alias}: ${s.reason}\n`);
      if (config.forwards.length === 0) fail(`no entry of ${file} can be served by kflog`, 1);
      const json = JSON.stringify(config, null, 2) + '\n';
      if (opts.output === undefined) {
        io.stdout.write(json);
        return;
      }
      try {
        writeFileSync(opts.output, json);
      } catch (err) {
        fail(`cannot write ${opts.output}: ${(err as Error).message}`, 2);
      }
      io.stderr.write(`wrote ${opts.output}: ${config.forwards.length} forward(s), ${skipped.length} skipped\n`);
    });
}
