import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { Pipeline } from '../../src/emit/pipeline.js';
import { formatSummary } from '../../src/kflog.js';
import { tempDir } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';
import { numberedAccessEntry } from '../helpers/entries.js';
import { logConfig } from '../writers/helpers.js';

interface Warning {
  ts: number;
  msg: string;
  log: string;
  dropped: number;
  dropped_total: number;
  written: number;
  failed: number;
}

function warnings(file: string): Warning[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Warning)
    .filter((w) => w.msg === 'log queue full, entries dropped');
}

describe('drop reporting', () => {
  const cleanups = undoAfterEach();

  it('warns at most once a second while dropping, with written, dropped and failed counts, and sums up at exit', async () => {
    const t = tempDir('drops');
    cleanups.push(t.cleanup);
    const kflogFile = join(t.dir, 'kflog.log');
    const pipeline = new Pipeline([
      // The smallest queue the schema allows: a burst of entries in one turn overflows it.
      logConfig('access', { output: 'file', filename: join(t.dir, 'access.log') }, { queueBytes: 1024 }),
      logConfig('process', { output: 'file', filename: kflogFile }, { include: ['kflog'] }),
    ]);
    let n = 0;
    const burst = (): void => {
      for (let i = 0; i < 100; i++) pipeline.emit(numberedAccessEntry(n++));
    };
    burst();
    const first = await waitFor('the first warning', () => {
      const w = warnings(kflogFile);
      return w.length > 0 && w[0];
    });
    expect(first.log).toBe('access');
    expect(first.dropped).toBeGreaterThan(90);
    expect(first.dropped_total).toBe(first.dropped);
    expect(typeof first.written).toBe('number');
    expect(first.failed).toBe(0);

    // Keep dropping for 2.5 s: a burst every 100 ms.
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      burst();
      await new Promise((r) => setTimeout(r, 100));
    }
    await pipeline.flush();
    await waitFor('a warning with the final count', () => {
      const total = pipeline.stats().find((s) => s.name === 'access')!.dropped;
      return warnings(kflogFile).some((w) => w.dropped_total === total);
    });
    const all = warnings(kflogFile);
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < all.length; i++) expect(all[i]!.ts - all[i - 1]!.ts).toBeGreaterThanOrEqual(0.99);
    // Each warning's count is the drops since the one before.
    expect(all.reduce((sum, w) => sum + w.dropped, 0)).toBe(all[all.length - 1]!.dropped_total);

    await pipeline.close();
    const stats = pipeline.stats();
    const access = stats.find((s) => s.name === 'access')!;
    expect(access.written + access.dropped).toBe(n);
    const accessLines = readFileSync(join(t.dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    expect(accessLines).toHaveLength(access.written);
    expect(formatSummary(stats)).toContain(`log "access" written=${access.written} sampled_out=0 dropped=${access.dropped} failed=0`);
  });
});
