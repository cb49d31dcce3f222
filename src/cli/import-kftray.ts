import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { ConfigError, formatProblem, parseConfigText } from '../config/load.js';
import { schemaFile } from '../config/validate.js';
import { importKftray } from '../kftray/import.js';

/** One input as read: where it came from (for messages) and its text. */
export interface ImportInput {
  source: string;
  text: string;
}

/** Where the command reads and writes; tests pass their own. */
export interface ImportIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Read one argument: a file, "-" (stdin), or a directory (each *.json in it, by name). */
  read(path: string): ImportInput[];
  /** The directory the config's `"$schema"` path is relative to when it goes to stdout. */
  cwd(): string;
}

function readInputs(path: string): ImportInput[] {
  if (path === '-') return [{ source: 'stdin', text: readFileSync(0, 'utf8') }];
  if (!statSync(path).isDirectory()) return [{ source: path, text: readFileSync(path, 'utf8') }];
  return readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ source: join(path, name), text: readFileSync(join(path, name), 'utf8') }));
}

/** The process's own streams, files and working directory. */
export function importKftrayIo(): ImportIo {
  return { stdout: process.stdout, stderr: process.stderr, read: readInputs, cwd: () => process.cwd() };
}

/** Exit codes: what a script needs to tell "all imported" from "written, but not everything". */
export const IMPORT_EXIT = { ALL_IMPORTED: 0, NOTHING_SERVABLE: 1, UNREADABLE: 2, SOME_SKIPPED: 3 } as const;

/** `"$schema"` as a path from the config's directory to kflog's schema, so an editor finds it wherever it is. */
function schemaReference(configDir: string): string {
  const rel = relative(configDir, schemaFile()).split('\\').join('/');
  return rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
}

/**
 * `kflog import-kftray FILE… [-o OUT]`: kftray's exported configs → a kflog config on stdout (or OUT) that
 * `kflog validate` accepts; entries kflog cannot serve, and adaptations, on stderr with the reason.
 */
export function importKftrayCommand(io: ImportIo = importKftrayIo()): Command {
  const cmd = new Command('import-kftray');
  return cmd
    .description(
      "turn kftray's exported configs (JSON) into a kflog config: one forward per service/pod entry, kftray-format " +
        'HTTP logs where kftray had them on; entries kflog cannot serve (udp, proxy, expose, two on one port) are ' +
        'listed on stderr with the reason. Exit 0: all imported; 3: written, some skipped; 1: nothing to serve; ' +
        '2: unreadable input',
    )
    .argument('<files...>', 'kftray exports (JSON array of configs), directories of them (each *.json), or "-" for stdin')
    .option('-o, --output <file>', 'write the config to this file instead of stdout')
    .action((files: string[], opts: { output?: string }) => {
      const fail = (message: string, exitCode: number): never =>
        cmd.error(`kflog import-kftray: ${message}`, { exitCode, code: 'kflog.import-kftray' });
      const entries: unknown[] = [];
      for (const file of files) {
        let inputs: ImportInput[] = [];
        try {
          inputs = io.read(file);
        } catch (err) {
          fail(`cannot read ${file}: ${(err as Error).message}`, IMPORT_EXIT.UNREADABLE);
        }
        if (inputs.length === 0) fail(`${file} holds no *.json export`, IMPORT_EXIT.UNREADABLE);
        for (const input of inputs) {
          try {
            const parsed: unknown = JSON.parse(input.text);
            entries.push(...(Array.isArray(parsed) ? parsed : [parsed]));
          } catch (err) {
            fail(`cannot read ${input.source} as JSON: ${(err as Error).message}`, IMPORT_EXIT.UNREADABLE);
          }
        }
      }
      const { config, skipped, notes } = importKftray(entries);
      for (const n of notes) io.stderr.write(`note    ${n.alias}: ${n.note}\n`);
      for (const s of skipped) io.stderr.write(`skipped ${s.alias}: ${s.reason}\n`);
      const sources = files.map((f) => (f === '-' ? 'stdin' : f)).join(', ');
      if (config.forwards.length === 0) fail(`no entry of ${sources} can be served by kflog`, IMPORT_EXIT.NOTHING_SERVABLE);
      const dir = opts.output === undefined ? io.cwd() : dirname(resolve(io.cwd(), opts.output));
      const json = JSON.stringify({ $schema: schemaReference(dir), ...config }, null, 2) + '\n';
      try {
        // What kflog run will load: a config import-kftray writes must be one kflog accepts.
        parseConfigText(json, 'imported config');
      } catch (err) {
        const problems = err instanceof ConfigError ? err.problems.map(formatProblem).join('; ') : (err as Error).message;
        fail(`internal error: the imported config does not validate (${problems}); please report it`, IMPORT_EXIT.UNREADABLE);
      }
      const summary = `${config.forwards.length} forward(s), ${skipped.length} skipped`;
      if (opts.output === undefined) {
        io.stdout.write(json);
        io.stderr.write(`imported ${summary}\n`);
      } else {
        try {
          writeFileSync(opts.output, json);
        } catch (err) {
          fail(`cannot write ${opts.output}: ${(err as Error).message}`, IMPORT_EXIT.UNREADABLE);
        }
        io.stderr.write(`wrote ${opts.output}: ${summary}\n`);
      }
      if (skipped.length > 0) {
        fail(`${skipped.length} of ${skipped.length + config.forwards.length} entries skipped (listed above)`, IMPORT_EXIT.SOME_SKIPPED);
      }
    });
}
