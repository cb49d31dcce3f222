import { describe, expect, it } from 'vitest';
import { countsOf, DURATION_BUCKETS, ForwardMeter, METHOD_LABELS, STATUS_LABELS, sumCounts } from '../../src/proxy/meter.js';

function requests(m: ForwardMeter, method: string, status: string): number {
  return m.requests[METHOD_LABELS.indexOf(method) * STATUS_LABELS.length + STATUS_LABELS.indexOf(status)]!;
}

describe('a forward meter', () => {
  it('counts a method outside the known ones as "other" and status 0 as "none", so clients cannot add series', () => {
    const m = new ForwardMeter();
    m.exchange('BREW', 418, 0.001, 0, 0, '----');
    m.exchange('GET', 0, 0.001, 0, 0, 'CH--');
    m.exchange('GET', 204, 0.001, 0, 0, '');
    expect(requests(m, 'other', '4xx')).toBe(1);
    expect(requests(m, 'GET', 'none')).toBe(1);
    expect(requests(m, 'GET', '2xx')).toBe(1);
  });

  it('puts a duration on a bucket bound in that bucket (le: less or equal), past the last in +Inf', () => {
    const m = new ForwardMeter();
    m.exchange('GET', 200, 0.005, 0, 0, '');
    m.exchange('GET', 200, 0.0051, 0, 0, '');
    m.exchange('GET', 200, 11, 0, 0, '');
    expect(m.durationBuckets[0]).toBe(1);
    expect(m.durationBuckets[1]).toBe(1);
    expect(m.durationBuckets[DURATION_BUCKETS.length]).toBe(1);
    expect(m.durationSum).toBeCloseTo(11.0101, 6);
  });

  it('counts as upstream failures the states the upstream side caused (S…, s…, PH), not the client\'s or kflog\'s', () => {
    const m = new ForwardMeter();
    for (const state of ['SC--', 'SH--', 'sH--', 'PH--', 'CD--', 'PR--', 'KD--', '']) m.exchange('GET', 502, 0.01, 0, 0, state);
    expect([...m.upstreamFailures]).toEqual([['SC--', 1], ['SH--', 1], ['sH--', 1], ['PH--', 1]]);
  });

  it('sums the counts of several processes per forward', () => {
    const a = new ForwardMeter();
    a.exchange('GET', 200, 0.01, 3, 5, '');
    const b = new ForwardMeter();
    b.exchange('GET', 502, 2, 0, 7, 'SC--');
    const [sum] = sumCounts([countsOf('api', a, 1), countsOf('api', b, 2, { opened: 1, failed: 0 })]);
    expect(sum).toMatchObject({ id: 'api', bytesIn: 3, bytesOut: 12, connections: 3, upstreamFailures: [['SC--', 1]], portForwards: { opened: 1, failed: 0 } });
    expect(sum!.requests.reduce((x, y) => x + y, 0)).toBe(2);
    expect(sum!.durationSum).toBeCloseTo(2.01, 6);
  });
});
