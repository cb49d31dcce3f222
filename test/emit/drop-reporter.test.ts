import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DropReporter } from '../../src/emit/drop-reporter.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A reporter whose reports are counted. */
function counted(): { reporter: DropReporter; reports: () => number } {
  let n = 0;
  return { reporter: new DropReporter(() => void n++, 1000), reports: () => n };
}

describe('DropReporter', () => {
  it('reports once a second however many drops came in that second', () => {
    const { reporter, reports } = counted();
    for (let i = 0; i < 100; i++) reporter.dropped();
    vi.advanceTimersByTime(999);
    expect(reports()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(reports()).toBe(1);
    reporter.dropped();
    vi.advanceTimersByTime(1000);
    expect(reports()).toBe(2);
  });

  it('reports nothing when nothing was dropped', () => {
    const { reporter, reports } = counted();
    vi.advanceTimersByTime(5000);
    reporter.flush();
    expect(reports()).toBe(0);
  });

  it('tells a pending report at once on flush, and not a second time when its timer would have run', () => {
    const { reporter, reports } = counted();
    reporter.dropped();
    reporter.flush();
    expect(reports()).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(reports()).toBe(1);
  });

  it('schedules no report once stopped, but still tells the pending one on flush', () => {
    const { reporter, reports } = counted();
    reporter.dropped();
    reporter.stop();
    reporter.dropped();
    reporter.flush();
    expect(reports()).toBe(1);
    reporter.dropped();
    vi.advanceTimersByTime(2000);
    expect(reports()).toBe(1);
  });

  it('on close tells the pending report and schedules none after', () => {
    const { reporter, reports } = counted();
    reporter.dropped();
    reporter.close();
    expect(reports()).toBe(1);
    reporter.dropped();
    vi.advanceTimersByTime(2000);
    expect(reports()).toBe(1);
  });
});
