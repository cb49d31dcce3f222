import { describe, expect, it } from 'vitest';
import type { LogStats } from '../../src/emit/log.js';
import { RetiredStats, type Retirable } from '../../src/emit/retired-stats.js';

function counts(name: string, written: number, maxLagMs = 0): LogStats {
  return { name, written, sampledOut: 0, dropped: 0, failed: 0, skipped: 0, lagMs: 0, maxLagMs, queuedBytes: 0 };
}

/** A pipeline whose queues are written only when it closes, as a real one's are. */
function closingPipeline(before: number, after: number): Retirable {
  let written = before;
  return {
    close: async () => {
      written = after;
    },
    stats: () => [counts('access', written)],
  };
}

describe('RetiredStats', () => {
  it('keeps the counts a retired pipeline has after it closed, not before', async () => {
    const retired = new RetiredStats();
    await retired.retire(closingPipeline(3, 5));
    expect(retired.total([])).toEqual([counts('access', 5)]);
  });

  it('sums retired and live counts by log name, lag as the worst of them', async () => {
    const retired = new RetiredStats();
    await retired.retire(closingPipeline(0, 2));
    retired.keep([counts('access', 4, 30), counts('kflog', 1)]);
    expect(retired.total([counts('access', 10, 7)])).toEqual([counts('access', 16, 30), counts('kflog', 1)]);
  });

  it('gives the live counts alone when nothing was retired', () => {
    expect(new RetiredStats().total([counts('access', 1)])).toEqual([counts('access', 1)]);
  });
});
