import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LogConfig } from '../../src/config/types.js';

/** A log config as src/config would resolve it. */
export function logConfig(name: string, writer: LogConfig['writer'], over: Partial<LogConfig> = {}): LogConfig {
  return {
    name,
    writer,
    encoder: { format: 'json' },
    level: 'debug',
    include: ['http.log.access'],
    exclude: [],
    logCredentials: false,
    queueBytes: 16 * 1024 * 1024,
    outputDeadlineMs: 5000,
    ...over,
  };
}

/** Every line of every file in `dir` whose name starts with `prefix`, .gz files decompressed, links skipped. */
export function linesOfAll(dir: string, prefix: string): string[] {
  const lines: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || name.endsWith('.tmp') || lstatSync(join(dir, name)).isSymbolicLink()) continue;
    const raw = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  }
  return lines;
}

/** The n of "?n=<n>" in a line. */
export function lineNumber(line: string): number {
  const m = /[?&]n=(\d+)/.exec(line);
  if (!m) throw new Error(`no n= in line: ${line.slice(0, 200)}`);
  return Number(m[1]);
}
