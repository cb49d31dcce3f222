import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Admission, loggerAllowed, segmentPrefix } from '../../src/emit/match.js';

describe('include/exclude by whole dot segments (docs/pipeline.md)', () => {
  it('admits everything when both lists are empty', () => {
    expect(loggerAllowed('http.log.access.users', [], [])).toBe(true);
    expect(loggerAllowed('kflog', [], [])).toBe(true);
  });

  it('admits a name under an included prefix', () => {
    expect(loggerAllowed('http.log.access.users', ['http.log'], [])).toBe(true);
  });

  it('admits the included name itself', () => {
    expect(loggerAllowed('http.log.access', ['http.log.access'], [])).toBe(true);
  });

  it('never lets http.log match http.logx', () => {
    expect(loggerAllowed('http.logx.access', ['http.log'], [])).toBe(false);
    expect(loggerAllowed('http.logx', [], ['http.log'])).toBe(true);
  });

  it('rejects a name no include matches when includes are given', () => {
    expect(loggerAllowed('kflog', ['http.log'], [])).toBe(false);
  });

  it('rejects a name under an excluded prefix', () => {
    expect(loggerAllowed('http.log.request.users', [], ['http.log.request'])).toBe(false);
    expect(loggerAllowed('http.log.access.users', [], ['http.log.request'])).toBe(true);
  });

  it('lets a longer include win over a shorter exclude', () => {
    expect(loggerAllowed('http.log.access.users', ['http.log.access'], ['http.log'])).toBe(true);
    expect(loggerAllowed('http.log.request.users', ['http.log.access'], ['http.log'])).toBe(false);
  });

  it('lets a longer exclude win over a shorter include', () => {
    expect(loggerAllowed('http.log.access.users', ['http.log'], ['http.log.access.users'])).toBe(false);
    expect(loggerAllowed('http.log.access.orders', ['http.log'], ['http.log.access.users'])).toBe(true);
  });

  it('rejects when include and exclude are equally long', () => {
    expect(loggerAllowed('http.log.access', ['http.log'], ['http.log'])).toBe(false);
  });

  it('silences the default log for http entries with exclude ["http.log"] but keeps kflog messages', () => {
    expect(loggerAllowed('http.log.access.users', [], ['http.log'])).toBe(false);
    expect(loggerAllowed('kflog', [], ['http.log'])).toBe(true);
  });
});

const segment = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
const name = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('.'));

describe('segment matching, as properties', () => {
  it('never matches a prefix that ends inside a segment', () => {
    fc.assert(
      fc.property(name, fc.stringMatching(/^[a-z0-9_-]{1,4}$/), name, (ns, glued, rest) => {
        // ns + "x…" is a different segment: "http.log" must not match "http.logx…"
        expect(segmentPrefix(ns, ns + glued + '.' + rest)).toBe(false);
        expect(loggerAllowed(ns + glued, [ns], [])).toBe(false);
      }),
    );
  });

  it('matches every name under a prefix, whatever follows', () => {
    fc.assert(
      fc.property(name, name, (ns, rest) => {
        expect(segmentPrefix(ns, ns + '.' + rest)).toBe(true);
        expect(loggerAllowed(ns + '.' + rest, [ns], [])).toBe(true);
      }),
    );
  });

  it('decides by the longer of the matching include and exclude', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 3, maxLength: 6 }), fc.nat(), fc.nat(), (segs, a, b) => {
        const full = segs.join('.');
        const inc = segs.slice(0, 1 + (a % segs.length)).join('.');
        const exc = segs.slice(0, 1 + (b % segs.length)).join('.');
        expect(loggerAllowed(full, [inc], [exc])).toBe(inc.length > exc.length);
      }),
    );
  });
});

describe('the logs that admit a logger name', () => {
  const logs = [
    { name: 'all', include: [], exclude: [] },
    { name: 'access', include: ['http.log.access'], exclude: [] },
    { name: 'no-users', include: ['http.log'], exclude: ['http.log.access.users'] },
  ];

  it('are the logs whose include and exclude admit it, in their order', () => {
    const admission = new Admission(logs, (l) => l);
    expect(admission.of('http.log.access.users').map((l) => l.name)).toEqual(['all', 'access']);
    expect(admission.of('http.log.request.users').map((l) => l.name)).toEqual(['all', 'no-users']);
    expect(admission.of('kflog').map((l) => l.name)).toEqual(['all']);
  });

  it('are worked out once per name, however often it is asked', () => {
    let asked = 0;
    const admission = new Admission(logs, (l) => (asked++, l));
    const first = admission.of('http.log.access.orders');
    for (let i = 0; i < 5; i++) expect(admission.of('http.log.access.orders')).toBe(first);
    expect(asked).toBe(logs.length);
  });
});
