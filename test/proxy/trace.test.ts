import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { traceIdFactory } from '../../src/proxy/trace.js';

describe('trace IDs', () => {
  it('are valid UUID v7 by default, unique, and sort in the order they were made', () => {
    const next = traceIdFactory('v7');
    const ids = Array.from({ length: 20_000 }, () => next());
    for (const id of ids.slice(0, 100)) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('carry the creation time in their first 48 bits', () => {
    const before = Date.now();
    const id = traceIdFactory('v7')();
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });

  it('are random UUID v4 when configured so', () => {
    const next = traceIdFactory('v4');
    const ids = Array.from({ length: 1000 }, () => next());
    expect(ids.every((id) => validate(id) && version(id) === 4)).toBe(true);
    expect(new Set(ids).size).toBe(1000);
  });
});
