import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { SkipRules } from '../../src/proxy/skip.js';
import { startProxy, type Harness } from './helpers.js';

describe('SkipRules', () => {
  const rules = new SkipRules([
    { path_prefix: '/healthz' },
    { method: 'options' },
    { path_prefix: '/api', status: '2xx' },
    { status: 404 },
  ]);

  it('a path prefix matches the path, with or without a query, and nothing else', () => {
    expect(rules.skipsRequest('GET', '/healthz')).toBe(true);
    expect(rules.skipsRequest('GET', '/healthz/ready?probe=1')).toBe(true);
    expect(rules.skipsRequest('GET', '/health')).toBe(false);
    expect(rules.skipsRequest('GET', '/?x=/healthz')).toBe(false);
  });

  it('a method matches case-insensitively', () => {
    expect(rules.skipsRequest('OPTIONS', '/anything')).toBe(true);
    expect(rules.skipsRequest('GET', '/anything')).toBe(false);
  });

  it('a rule naming a status is decided by the response, every other field of it matching too', () => {
    expect(rules.skipsRequest('GET', '/api/users')).toBe(false);
    expect(rules.skipsResponse('GET', '/api/users', 200)).toBe(true);
    expect(rules.skipsResponse('GET', '/api/users', 500)).toBe(false);
    expect(rules.skipsResponse('GET', '/other', 204)).toBe(false);
    expect(rules.skipsResponse('GET', '/other', 404)).toBe(true);
    expect(rules.byStatus).toBe(true);
  });

  it('no rules means nothing to check', () => {
    const none = new SkipRules([]);
    expect(none.any).toBe(false);
    expect(none.byStatus).toBe(false);
  });
});

let proxy: Harness | undefined;
afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

describe('skip rules on a forward', () => {
  it('skipped exchanges are proxied but leave no entry; a status rule keeps the request entry', async () => {
    proxy = await startProxy({
      target: { builtin: 'echo' },
      skip: [{ path_prefix: '/status/204' }, { method: 'HEAD' }, { status: '4xx' }],
    });
    const codes: number[] = [];
    for (const [method, path] of [['GET', '/status/204'], ['HEAD', '/api/users'], ['GET', '/status/404'], ['GET', '/api/users']] as const) {
      const res = await request(proxy.url + path, { method });
      codes.push(res.statusCode);
      await res.body.dump();
    }
    expect(codes).toEqual([204, 200, 404, 200]);
    await proxy.stop();
    expect(proxy.access().map((e) => e.request.uri)).toEqual(['/api/users']);
    // The 404's request entry was written before its status was known.
    expect(proxy.requests().map((e) => e.request.uri)).toEqual(['/status/404', '/api/users']);
  });

  it('"log": false turns every http.log entry of the forward off', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' }, log: false });
    await (await request(proxy.url + '/api/users')).body.dump();
    await proxy.stop();
    expect(proxy.entries.filter((e) => e.kind !== 'process')).toHaveLength(0);
  });
});
