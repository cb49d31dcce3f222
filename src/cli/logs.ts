import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { embeddedDefault, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { confirm } from './confirm.js';
import { chosenFiles, cleanChoice, deleteFiles, refuseHeldStores, type CleanFlags } from './log-clean.js';
import { knownFiles, type KnownFile } from './log-files.js';
import { fileCount, listing, totalSize } from './log-listing.js';
import { processesWithOpen } from './store-holder.js';
import { reporting } from './store-read.js';

interface ConfigFlag {
  config?: string;
}

/** The config `kflog run` would run here: --config, else ./kflog.json when there is one, else the embedded default. */
function chosenConfig(opts: ConfigFlag): Config {
  const path = opts.config ?? (existsSync('kflog.json') ? 'kflog.json' : undefined);
  return path !== undefined ? loadConfigFile(path) : embeddedDefault();
}

/** "(open in pid 1234: node …/cli.js run)" under the stores some process has open (where Linux's /proc says). */
function holderNotes(files: readonly KnownFile[]): Map<string, string[]> {
  const stores = [...new Set(files.map((f) => f.store).filter((s) => s !== undefined))];
  const lines: string[] = [];
  for (const store of stores) {
    const holders = processesWithOpen(store);
    if (holders.length === 0) continue;
    const who = holders.map((h) => `pid ${h.pid}${h.command ? `: ${h.command}` : ''}`).join('; ');
    lines.push(stores.length > 1 ? `${store} open in ${who}` : `open in ${who}`);
  }
  return new Map(lines.length > 0 ? [['store', lines]] : []);
}

function listCommand(): Command {
  return new Command('list')
    .description("list the files the config's logs write (per-forward log files, their rolls, the store), with size and modification time")
    .option('-c, --config <file>', 'the config whose files to list (default: ./kflog.json when present, else the embedded default)')
    .action((opts: ConfigFlag) =>
      reporting(() => {
        const config = chosenConfig(opts);
        const files = knownFiles(config);
        process.stdout.write(listing(config, files, holderNotes(files)) + `total  ${fileCount(files)}, ${totalSize(files)}\n`);
      }),
    );
}

interface CleanOptions extends CleanFlags, ConfigFlag {
  yes?: boolean;
}

/** What clean is to delete, listed on stdout; undefined (reported) when the flags or the config say no. */
function plan(opts: CleanOptions): KnownFile[] | undefined {
  let planned: KnownFile[] | undefined;
  reporting(() => {
    const config = chosenConfig(opts);
    const files = chosenFiles(knownFiles(config), cleanChoice(opts, config), Date.now());
    refuseHeldStores(files);
    process.stdout.write(files.length === 0 ? 'nothing to delete\n' : listing(config, files));
    planned = files;
  });
  return planned;
}

async function clean(opts: CleanOptions): Promise<void> {
  const files = plan(opts);
  if (files === undefined || files.length === 0) return;
  const what = `${fileCount(files)} (${totalSize(files)})`;
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      process.stderr.write(`kflog: not deleting ${what} without a confirmation, and there is no terminal to ask on: pass --yes\n`);
      process.exitCode = 1;
      return;
    }
    if (!(await confirm(`Delete ${what}? [y/N] `))) {
      process.stderr.write('kflog: nothing deleted\n');
      return;
    }
  }
  reporting(() => {
    const undeleted = deleteFiles(files);
    for (const reason of undeleted.reasons) process.stderr.write(`kflog: ${reason}\n`);
    const deleted = files.filter((f) => !undeleted.paths.has(f.path));
    process.stdout.write(`deleted ${fileCount(deleted)} (${totalSize(deleted)})\n`);
    if (undeleted.reasons.length > 0) process.exitCode = 1;
  });
}

function cleanCommand(): Command {
  return new Command('clean')
    .description("delete files the config's logs write, after listing them and asking: old rolls, a forward's files, or the store")
    .option('--older-than <age>', 'rolled files last written longer ago than this (7d, 12h); never a file being written')
    .option('--forward <id>', "only this forward's files; alone, all of them (its active file too)")
    .option('--store', 'the store (with its -wal and -shm), unless a process has it open')
    .option('--yes', 'delete without asking (needed when there is no terminal to ask on)')
    .option('-c, --config <file>', 'the config whose files to delete (default: ./kflog.json when present, else the embedded default)')
    .action(clean);
}

export function logsCommand(): Command {
  return new Command('logs')
    .description("the files kflog's logs write: list them, or delete old ones")
    .addCommand(listCommand())
    .addCommand(cleanCommand());
}
