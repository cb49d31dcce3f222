import type { Level } from '../core/entry.js';

export interface SamplingConfig {
  intervalMs: number;
  first: number;
  thereafter: number;
}

/**
 * zap's sampler, as Caddy configures it: a window of `intervalMs` opens at its first entry; within it the n-th
 * entry with the same (level, msg) is kept when n ≤ first or (n − first) is a multiple of thereafter.
 */
export class Sampler {
  private windowStart = -Infinity;
  private counts = new Map<string, number>();
  sampledOut = 0;

  constructor(private readonly cfg: SamplingConfig) {}

  keep(level: Level, msg: string, now: number): boolean {
    if (now - this.windowStart >= this.cfg.intervalMs) {
      this.windowStart = now;
      this.counts.clear();
    }
    const key = level + '\0' + msg;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n <= this.cfg.first) return true;
    if (this.cfg.thereafter > 0 && (n - this.cfg.first) % this.cfg.thereafter === 0) return true;
    this.sampledOut++;
    return false;
  }
}
