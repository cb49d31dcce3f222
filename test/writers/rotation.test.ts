import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { Pipeline } from '../../src/emit/pipeline.js';
import { tempDir } from '../helpers/files.js';
import { numberedAccessEntry } from '../helpers/entries.js';
import { lineNumber, linesOfAll, logConfig } from './helpers.js';

// Entries go through the real Pipeline (json encoder, bounded queue, pooled pino-roll file writer), paced by
// flush() so the queue never overflows: every entry must land in exactly one file.
async function emitPaced(pipeline: Pipeline, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    pipeline.emit(numberedAccessEntry(i));
    if (i % 2000 === 1999) await pipeline.flush();
  }
}

describe('file writer rotation', () => {
  const cleanups = undoAfterEach();

  it('loses no line across rotation: 100,000 access entries, roll_size_mb 1, gzip, all lines in the files', async () => {
    const t = tempDir('roll100k');
    cleanups.push(t.cleanup);
    const logs = join(t.dir, 'logs');
    const pipeline = new Pipeline([
      logConfig('access', { output: 'file', filename: join(logs, 'access.log'), roll_size_mb: 1, roll_gzip: true, roll_keep: 10_000 }),
    ]);
    await emitPaced(pipeline, 100_000);
    await pipeline.close();

    const stats = pipeline.stats()[0]!;
    expect(stats).toMatchObject({ written: 100_000, dropped: 0, failed: 0 });
    const lines = linesOfAll(logs, 'access.');
    expect(lines.length).toBe(100_000);
    const seen = new Set(lines.map(lineNumber));
    expect(seen.size).toBe(100_000);
    for (const line of lines.slice(0, 50)) expect(JSON.parse(line).msg).toBe('handled request');

    const names = readdirSync(logs);
    const gz = names.filter((n) => n.endsWith('.log.gz'));
    const plain = names.filter((n) => /^access\.\d+\.log$/.test(n));
    // ~700 bytes a line: some 70 MB, so dozens of rolls, every rotated file compressed, one active file.
    expect(gz.length).toBeGreaterThan(30);
    expect(plain.length).toBe(1);
    for (const n of names) if (!n.endsWith('.gz')) expect(statSync(join(logs, n)).size).toBeLessThan(3 * 1024 * 1024);
    for (const n of [...gz, ...plain]) expect(statSync(join(logs, n)).mode & 0o777).toBe(0o600);
    expect(statSync(logs).mode & 0o777).toBe(0o700);
    // The configured name follows the active file.
    expect(readFileSync(join(logs, 'access.log'), 'utf8')).toBe(readFileSync(join(logs, plain[0]!), 'utf8'));
  });

  it('roll_keep keeps the newest rotated files only, compressed, and they hold the latest lines', async () => {
    const t = tempDir('rollkeep');
    cleanups.push(t.cleanup);
    const pipeline = new Pipeline([
      logConfig('access', { output: 'file', filename: join(t.dir, 'access.log'), roll_size_mb: 0.25, roll_gzip: true, roll_keep: 3 }),
    ]);
    await emitPaced(pipeline, 8000);
    await pipeline.close();

    const names = readdirSync(t.dir).sort();
    expect(names.filter((n) => n.endsWith('.log.gz'))).toHaveLength(3);
    expect(names.filter((n) => /^access\.\d+\.log$/.test(n))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith('.tmp'))).toHaveLength(0);
    // What is kept is the tail of the stream, without a gap.
    const kept = linesOfAll(t.dir, 'access.').map(lineNumber).sort((a, b) => a - b);
    expect(kept[kept.length - 1]).toBe(7999);
    expect(kept[kept.length - 1]! - kept[0]! + 1).toBe(kept.length);
    expect(kept.length).toBeLessThan(8000);
  });
});
