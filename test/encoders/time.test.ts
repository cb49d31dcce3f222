import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClfTime, GoLayout, goDuration, HaproxyDate, Rfc3339Micro, SyslogTime } from '../../src/encoders/time.js';

const T = Date.UTC(2026, 10, 1, 8, 4, 5, 67) + 0.891; // Sun 1 Nov 2026 08:04:05.067891 UTC

describe('fixed formats', () => {
  it('writes nginx/Caddy common_log time', () => {
    expect(new ClfTime(false).format(T)).toBe('01/Nov/2026:08:04:05 +0000');
  });

  it("writes HAProxy's accept date with milliseconds", () => {
    expect(new HaproxyDate(false).format(T)).toBe('01/Nov/2026:08:04:05.067');
  });

  it('zero-pads the syslog day, as lnav needs', () => {
    expect(new SyslogTime(false).format(T)).toBe('Nov 01 08:04:05');
  });

  it("writes kftray's RFC 3339 time with microseconds and +00:00", () => {
    expect(new Rfc3339Micro().format(T)).toBe('2026-11-01T08:04:05.067891+00:00');
    expect(new Rfc3339Micro(true).format(T)).toBe('2026-11-01T08:04:05.067891Z');
  });

  it('rolls over to the next second when the microseconds round up', () => {
    expect(new Rfc3339Micro().format(Date.UTC(2026, 0, 1, 0, 0, 0, 999) + 0.9999999)).toBe('2026-01-01T00:00:01.000000+00:00');
  });

  it('gives the right text for a new second after caching the previous one', () => {
    const f = new ClfTime(false);
    expect(f.format(T)).toBe('01/Nov/2026:08:04:05 +0000');
    expect(f.format(T + 1000)).toBe('01/Nov/2026:08:04:06 +0000');
  });
});

describe('local time', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  it('writes the local offset as nginx does', () => {
    expect(new ClfTime(true).format(T)).toBe('01/Nov/2026:13:34:05 +0530');
  });
});

describe('Go layouts', () => {
  const cases: Array<[string, string]> = [
    ['2006-01-02T15:04:05Z07:00', '2026-11-01T08:04:05Z'],
    ['2006-01-02T15:04:05.999999999Z07:00', '2026-11-01T08:04:05.067891Z'],
    ['2006-01-02T15:04:05.000Z0700', '2026-11-01T08:04:05.067Z'],
    ['2006/01/02 15:04:05.000000000', '2026/11/01 08:04:05.067891000'],
    ['02/Jan/2006:15:04:05 -0700', '01/Nov/2026:08:04:05 +0000'],
    ['Mon Jan _2 3:4:5 PM MST 06', 'Sun Nov  1 8:4:5 AM UTC 26'],
    ['Monday, January 2 002 __2', 'Sunday, November 1 305 305'],
    ['15h04', '08h04'],
  ];
  for (const [layout, want] of cases) {
    it(`formats ${layout}`, () => {
      expect(new GoLayout(layout, false).format(T)).toBe(want);
    });
  }

  it('drops an all-zero trimmed fraction together with its dot', () => {
    expect(new GoLayout('05.999', false).format(Date.UTC(2026, 0, 1, 0, 0, 7))).toBe('07');
  });
});

describe('Go durations', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [500, '500ns'],
    [1500, '1.5µs'],
    [1_403_790, '1.40379ms'],
    [1_002_181_514, '1.002181514s'],
    [60_500_000_000, '1m0.5s'],
    [3_723_000_000_000, '1h2m3s'],
    [-2_000_000, '-2ms'],
  ];
  for (const [ns, want] of cases) {
    it(`writes ${ns}ns as ${want}`, () => {
      expect(goDuration(ns)).toBe(want);
    });
  }
});
