import { describe, expect, it } from 'vitest';
import { harPhases } from '../../src/export/har-timings.js';

describe('HAProxy timers as HAR phases', () => {
  it('a complete exchange: blocked Tw, connect Tc, send Tq, wait Tr, receive the rest of Tt, and time is Tt', () => {
    expect(harPhases({ tq: 2, tw: 0, tc: 16, tr: 8, tt: 32 }, 0.03)).toEqual({
      timings: { blocked: 0, dns: -1, connect: 16, ssl: -1, send: 2, wait: 8, receive: 6 },
      time: 32,
    });
  });

  it('a refused connect spends its time connecting: wait and receive 0', () => {
    expect(harPhases({ tq: 0, tw: 0, tc: -1, tr: -1, tt: 3 }, 0.003)).toEqual({
      timings: { blocked: 0, dns: -1, connect: 3, ssl: -1, send: 0, wait: 0, receive: 0 },
      time: 3,
    });
  });

  it('a timeout after connecting spends its time waiting', () => {
    expect(harPhases({ tq: 1, tw: 0, tc: 2, tr: -1, tt: 5003 }, 5.002)).toEqual({
      timings: { blocked: 0, dns: -1, connect: 2, ssl: -1, send: 1, wait: 5000, receive: 0 },
      time: 5003,
    });
  });

  it('a request kflog answered itself (never dispatched) spends its time in send, blocked and connect -1', () => {
    expect(harPhases({ tq: 4, tw: -1, tc: -1, tr: -1, tt: 6 }, 0.002)).toEqual({
      timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 6, wait: 0, receive: 0 },
      time: 6,
    });
  });

  it('with no Tt the total is the duration plus Tq', () => {
    expect(harPhases({ tq: 1, tw: 0, tc: 0, tr: 3, tt: -1 }, 0.01).time).toBe(11);
  });

  it('rounded timers that add up past Tt leave receive 0, never negative, and time their sum', () => {
    const { timings, time } = harPhases({ tq: 1, tw: 0, tc: 3, tr: 3, tt: 6 }, 0.005);
    expect(timings.receive).toBe(0);
    expect(time).toBe(7);
  });
});
