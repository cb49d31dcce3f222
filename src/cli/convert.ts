import { Command } from 'commander';
import type { Entry } from '../core/entry.js';
import type { EncoderContext } from '../encoders/encoder.js';
import { createEncoder, encoderFileHeader } from '../encoders/registry.js';
import { joinExchanges } from '../export/exchanges.js';
import { harEntry, writeHar } from '../export/har.js';
import { entryOfJsonLine } from '../export/json-entries.js';
import { reportingFiles } from './file-error.js';
import { openOutput, type Output } from './output-file.js';
import { linesOf } from './read-lines.js';
import { UsageError } from './store-read.js';

const FORMATS = ['clf', 'haproxy', 'kftray', 'logfmt', 'har'] as const;
type Format = (typeof FORMATS)[number];

interface ConvertOptions {
  to?: string;
  output?: string;
  logCredentials?: boolean;
}

/** Line numbers listed in the report before it says "…": enough to find the first few with sed. */
const LISTED_LINES = 10;

function formatOf(to: string | undefined): Format {
  if (to !== undefined && (FORMATS as readonly string[]).includes(to)) return to as Format;
  throw new UsageError(`--to${to === undefined ? '' : ` "${to}"`}: expected one of ${FORMATS.join(', ')}`);
}

/** The entries of the log's lines in order; the numbers of the lines that are none go to `skipped`. */
function* entriesOf(lines: Iterable<string>, skipped: number[]): Generator<Entry> {
  let n = 0;
  for (const line of lines) {
    n++;
    // A blank line carries nothing, of kflog's or anyone's.
    if (line.trim() === '') continue;
    const entry = entryOfJsonLine(line);
    if (entry === undefined) skipped.push(n);
    else yield entry;
  }
}

/** Each entry through the live pipeline's encoder for the format, as a log of that format would write it. */
function writeLines(out: Output, format: Format, entries: Iterable<Entry>, ctx: EncoderContext): void {
  const header = encoderFileHeader({ format });
  if (header !== undefined) out.write(header);
  const encoder = createEncoder({ format }, ctx);
  for (const entry of entries) {
    const line = encoder.encode(entry);
    if (line !== null) out.write(typeof line === 'string' ? line : line.toString('utf8'));
  }
}

/** The log's exchanges (access entries with their request entries) as one HAR document, oldest first. */
function writeHarOf(out: Output, entries: Iterable<Entry>, ctx: EncoderContext, version: string): void {
  const { exchanges, unanswered } = joinExchanges(entries);
  const har = exchanges.map((x) => harEntry(x, ctx)).sort((a, b) => (a.startedDateTime < b.startedDateTime ? -1 : a.startedDateTime > b.startedDateTime ? 1 : 0));
  writeHar((text) => out.write(text), har, version);
  if (unanswered > 0) process.stderr.write(`kflog: left out ${unanswered} request${unanswered === 1 ? '' : 's'} with no access entry in the log\n`);
}

function skippedReport(path: string, skipped: readonly number[]): string {
  const n = skipped.length;
  const list = skipped.slice(0, LISTED_LINES).join(', ') + (n > LISTED_LINES ? ', …' : '');
  return n === 1
    ? `kflog: 1 line of ${path} was not a kflog entry: line ${list}\n`
    : `kflog: ${n} lines of ${path} were not kflog entries: lines ${list}\n`;
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('re-encode a kflog JSON log in another format, with the encoders kflog run uses; lines that are not kflog entries are counted and skipped')
    .argument('<file>', 'a log in kflog\'s json format (its default settings)')
    .option('--to <format>', `the format to write: ${FORMATS.join(', ')}`)
    .option('-o, --output <file>', 'write to this file (created 0600) instead of stdout')
    .option('--log-credentials', 'keep credential headers as the log kept them (default: REDACTED, as every format)')
    .action((file: string, opts: ConvertOptions, cmd: Command) =>
      reportingFiles(() => {
        const format = formatOf(opts.to);
        const lines = linesOf(file);
        const skipped: number[] = [];
        const ctx: EncoderContext = { logCredentials: opts.logCredentials === true, isTTY: false };
        const out = openOutput(opts.output);
        try {
          const entries = entriesOf(lines, skipped);
          if (format === 'har') writeHarOf(out, entries, ctx, cmd.parent?.version() ?? '');
          else writeLines(out, format, entries, ctx);
        } finally {
          out.close();
        }
        if (skipped.length > 0) process.stderr.write(skippedReport(file, skipped));
      }),
    );
}
