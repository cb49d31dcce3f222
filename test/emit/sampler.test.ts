import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sampler } from '../../src/emit/sampler.js';

function keptOf(n: number, first: number, thereafter: number, sampler = new Sampler({ intervalMs: 1000, first, thereafter })): number {
  let kept = 0;
  for (let i = 0; i < n; i++) if (sampler.keep('info', 'handled request', 5000)) kept++;
  return kept;
}

describe('zap-style sampling (docs/pipeline.md)', () => {
  it('keeps the first `first` entries of a window', () => {
    expect(keptOf(3, 5, 10)).toBe(3);
    expect(keptOf(5, 5, 10)).toBe(5);
  });

  it('keeps every thereafter-th entry after the first ones', () => {
    const s = new Sampler({ intervalMs: 1000, first: 2, thereafter: 3 });
    const kept = Array.from({ length: 11 }, () => s.keep('info', 'm', 0));
    // n = 1..11: kept when n ≤ 2 or (n − 2) % 3 == 0 → 1, 2, 5, 8, 11
    expect(kept.map((k, i) => (k ? i + 1 : 0)).filter(Boolean)).toEqual([1, 2, 5, 8, 11]);
  });

  it('keeps nothing after the first ones when thereafter is 0', () => {
    expect(keptOf(50, 4, 0)).toBe(4);
  });

  it('counts what it sampled out', () => {
    const s = new Sampler({ intervalMs: 1000, first: 1, thereafter: 10 });
    keptOf(21, 1, 10, s);
    expect(s.sampledOut).toBe(21 - 3);
  });

  it('counts each (level, message) pair separately', () => {
    const s = new Sampler({ intervalMs: 1000, first: 1, thereafter: 0 });
    expect(s.keep('info', 'a', 0)).toBe(true);
    expect(s.keep('info', 'b', 0)).toBe(true);
    expect(s.keep('error', 'a', 0)).toBe(true);
    expect(s.keep('info', 'a', 0)).toBe(false);
  });

  it('opens a new window after the interval, resetting the counts', () => {
    const s = new Sampler({ intervalMs: 1000, first: 1, thereafter: 0 });
    expect(s.keep('info', 'a', 10_000)).toBe(true);
    expect(s.keep('info', 'a', 10_999)).toBe(false);
    expect(s.keep('info', 'a', 11_000)).toBe(true);
  });

  it('keeps exactly first + ⌊(n − first) / thereafter⌋ of n same-message entries in one window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 50 }), (n, first, thereafter) => {
        const expected = n <= first ? n : first + Math.floor((n - first) / thereafter);
        expect(keptOf(n, first, thereafter)).toBe(expected);
      }),
    );
  });
});
