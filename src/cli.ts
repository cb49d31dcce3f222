#!/usr/bin/env node
import { Command } from 'commander';
import './modules.js';
import { caCommand } from './cli/ca.js';
import { convertCommand } from './cli/convert.js';
import { exportCommand } from './cli/export.js';
import { importKftrayCommand } from './cli/import-kftray.js';
import { logsCommand } from './cli/logs.js';
import { lsCommand } from './cli/ls.js';
import { replayCommand } from './cli/replay.js';
import { runCommand } from './cli/run.js';
import { showCommand } from './cli/show.js';
import { tailCommand } from './cli/tail.js';
import { validateCommand } from './cli/validate.js';
import { KFLOG_VERSION } from './cli/version.js';

const program = new Command('kflog')
  .description('HTTP logging proxy: forwards each listener to its target and logs every exchange (json, console, …) through a Caddy-style pipeline')
  .version(KFLOG_VERSION)
  .addCommand(runCommand())
  .addCommand(validateCommand())
  .addCommand(importKftrayCommand())
  .addCommand(lsCommand())
  .addCommand(showCommand())
  .addCommand(replayCommand())
  .addCommand(logsCommand())
  .addCommand(tailCommand())
  .addCommand(exportCommand())
  .addCommand(convertCommand())
  .addCommand(caCommand())
  .showHelpAfterError();

await program.parseAsync(process.argv);
