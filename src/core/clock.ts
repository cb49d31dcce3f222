import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

/** Epoch milliseconds with a sub-millisecond fraction (Date.now() has none; log timestamps want microseconds). */
export function nowMs(): number {
  return origin + performance.now();
}
