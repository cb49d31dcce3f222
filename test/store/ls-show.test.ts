import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { kflogCli, send, startStoreKflog, stopAndFlush, traceIds, type StoreKflog } from './helpers.js';

const TRACE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('kflog ls and kflog show read what a store log captured', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: StoreKflog;

  beforeAll(async () => {
    k = await startStoreKflog(undo);
    // Sent one after the other, so their order in the store is known.
    await send(`${k.base}/api/users?page=2`);
    await send(`${k.base}/echo`, {
      method: 'POST',
      headers: { Authorization: 'Bearer s3cret', 'Content-Type': 'application/json' },
      body: '{"name":"Ada Lovelace"}',
    });
    await send(`${k.base}/status/503`);
    await send(`${k.base}/status/404`);
    await stopAndFlush(k);
  });
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
  });

  const ls = (...args: string[]) => kflogCli(['ls', '--store', k.db, ...args]);

  it('lists every exchange newest first, one line with time, forward, method, path, status, duration, size and trace ID', () => {
    const r = ls();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    const fields = lines.map((l) => l.split('  '));
    expect(fields.map((f) => [f[1], f[2], f[3], f[4]])).toEqual([
      ['demo', 'GET', '/status/404', '404'],
      ['demo', 'GET', '/status/503', '503'],
      ['demo', 'POST', '/echo', '200'],
      ['demo', 'GET', '/api/users', '200'],
    ]);
    for (const f of fields) {
      expect(f).toHaveLength(8);
      expect(new Date(f[0]!).toISOString()).toBe(f[0]);
      expect(f[5]).toMatch(/^\d+\.\dms$/);
      expect(f[6]).toMatch(/^\d+B$/);
      expect(f[7]).toMatch(TRACE);
    }
    expect(fields[3]![6]).toBe('34B');
  });

  it('ls --status 5xx keeps only the server errors', () => {
    const r = ls('--status', '5xx');
    expect(r.stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/status/503']);
  });

  it('ls --status 404 keeps only that status', () => {
    expect(ls('--status', '404').stdout.trim().split('\n').map((l) => l.split('  ')[4])).toEqual(['404']);
  });

  it('ls --method matches the method in any case', () => {
    expect(ls('--method', 'post').stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/echo']);
  });

  it('ls --path matches the path as a glob', () => {
    expect(ls('--path', '/status/*').stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/status/404', '/status/503']);
  });

  it('ls --grep finds an exchange by the text of its body', () => {
    expect(ls('--grep', 'Lovelace').stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/echo']);
  });

  it('ls --grep finds an exchange by a header value', () => {
    expect(ls('--grep', 'application/json').stdout.trim().split('\n').map((l) => l.split('  ')[3]).sort()).toEqual(['/api/users', '/echo']);
  });

  it('ls --grep with several words finds the exchanges that have every one of them, in any order', () => {
    expect(ls('--grep', 'Lovelace Ada').stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/echo']);
    expect(ls('--grep', 'Lovelace nobody').stdout.trim()).toBe('');
  });

  it('ls --grep does not find the redacted credential', () => {
    const r = ls('--grep', 's3cret');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('ls --forward keeps only that forward', () => {
    expect(traceIds(ls('--forward', 'demo').stdout)).toHaveLength(4);
    expect(ls('--forward', 'other').stdout).toBe('');
  });

  it('ls --since and --until bound the start time', () => {
    expect(traceIds(ls('--since', '10m').stdout)).toHaveLength(4);
    expect(ls('--until', '10m').stdout).toBe('');
    expect(traceIds(ls('--since', '2000-01-01T00:00:00Z').stdout)).toHaveLength(4);
  });

  it('ls --slower-than keeps only exchanges that took longer', () => {
    expect(ls('--slower-than', '1h').stdout).toBe('');
    expect(traceIds(ls('--slower-than', '0ms').stdout)).toHaveLength(4);
  });

  it('ls --limit keeps the newest ones', () => {
    expect(ls('--limit', '2').stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/status/404', '/status/503']);
  });

  it('ls --json writes one JSON object a line with the columns of the exchange', () => {
    const rows = ls('--json', '--method', 'POST').stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      forward: 'demo',
      method: 'POST',
      path: '/echo',
      status: 200,
      termination_state: '----',
      req_body: '{"name":"Ada Lovelace"}',
      req_body_encoding: 'text',
      resp_body: '{"name":"Ada Lovelace"}',
      req_headers: { Authorization: ['REDACTED'], 'Content-Type': ['application/json'] },
    });
    for (const t of ['tq', 'tw', 'tc', 'tr', 'tt']) expect(typeof rows[0]![t]).toBe('number');
  });

  it('show prints the exchange as kftray request and response blocks from a unique start of its trace ID', () => {
    const id = traceIds(ls('--method', 'POST').stdout)[0]!;
    const r = kflogCli(['show', '--store', k.db, id.slice(0, 23)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const blocks = r.stdout.split('----------------------------------------\n').filter(Boolean);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain(`Trace ID: ${id}\n`);
    expect(blocks[0]).toContain('Method: POST\nPath: /echo\n');
    expect(blocks[0]).toContain('Authorization: REDACTED\n');
    expect(blocks[0]).toContain('Body:\n{\n  "name": "Ada Lovelace"\n}\n');
    expect(blocks[1]).toContain('Status: 200\n');
    expect(blocks[1]).toMatch(/Took: \d+ ms\n/);
  });

  it('show --json prints the exchange as one JSON object', () => {
    const id = traceIds(ls('--path', '/api/users').stdout)[0]!;
    const r = kflogCli(['show', '--store', k.db, '--json', id]);
    expect(JSON.parse(r.stdout)).toMatchObject({ trace_id: id, path: '/api/users', query: 'page=2', status: 200, size: 34 });
  });

  it('show refuses a start of a trace ID that several exchanges share, and exits 2', () => {
    const ids = traceIds(ls().stdout);
    let common = '';
    while (ids.every((i) => i.startsWith(ids[0]!.slice(0, common.length + 1)))) common = ids[0]!.slice(0, common.length + 1);
    const r = kflogCli(['show', '--store', k.db, common]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kflog: trace ID "[0-9a-f-]*" is the start of several exchanges' .*: give more of it\n$/);
  });

  it('show of a trace ID the store does not have says so in one line and exits 1', () => {
    const r = kflogCli(['show', '--store', k.db, 'ffffffff']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: no exchange in ${k.db} has a trace ID starting ffffffff\n`);
  });

  it('creates the store 0600 in a 0700 directory', () => {
    expect(statSync(k.db).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(k.db)).mode & 0o777).toBe(0o700);
  });
});
