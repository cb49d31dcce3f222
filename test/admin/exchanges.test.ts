import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';
import { kflogCli } from '../store/helpers.js';
import { send, startAdminKflog, type AdminKflog } from './helpers.js';

const undo = undoAfterEach();

/** kflog with a store log (bodies captured) and the admin listener; `sent` are the requests made through it. */
async function storeKflog(): Promise<AdminKflog & { db: string; proxy: string }> {
  const db = join('private', 'exchanges.db');
  const k = await startAdminKflog(undo, {
    forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true } }],
    logging: { logs: { default: { exclude: ['http.log'] }, store: { writer: { output: 'store', path: db } } } },
  });
  return { ...k, db: join(k.dir, db), proxy: `http://${k.addresses.demo!}` };
}

type Row = { trace_id: string; method: string; status: number | null };

async function listed(admin: string, query = ''): Promise<Row[]> {
  const r = await send(`${admin}/api/exchanges${query}`);
  if (r.status !== 200) throw new Error(`GET /api/exchanges${query}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { exchanges: Row[] }).exchanges;
}

describe('GET /api/exchanges', () => {
  it('answers what kflog ls --json prints for the same filters, newest first', async () => {
    const k = await storeKflog();
    for (let i = 0; i < 3; i++) expect((await send(`${k.proxy}/api/users`)).status).toBe(200);
    expect((await send(`${k.proxy}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"ada"}' })).status).toBe(200);
    // The store is written by the log thread in batches: the four rows, each complete, appear within its flush.
    await waitFor('4 complete rows in the store', async () => {
      const rows = await listed(k.admin);
      return rows.length === 4 && rows.every((r) => r.status !== null);
    });
    for (const [query, flags] of [['', []], ['?method=POST', ['--method', 'POST']], ['?status=2xx&limit=2', ['--status', '2xx', '--limit', '2']]] as const) {
      const ls = kflogCli(['ls', '--store', k.db, '--json', ...flags], k.dir);
      expect(ls.code).toBe(0);
      const fromLs = ls.stdout.trim().split('\n').map((l) => JSON.parse(l) as Row);
      expect(await listed(k.admin, query)).toEqual(fromLs);
    }
    expect((await listed(k.admin, '?method=POST')).map((r) => r.status)).toEqual([200]);
    expect(await listed(k.admin, '?limit=2')).toHaveLength(2);
  });

  it('a filter value it cannot use is a 400 naming the parameter and what it takes', async () => {
    const k = await storeKflog();
    const bad = await send(`${k.admin}/api/exchanges?slower_than=soon`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toBe('slower_than "soon": expected a duration such as 500ms or 2s');
    const unknown = await send(`${k.admin}/api/exchanges?colour=red`);
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).error).toContain('unknown parameter "colour"');
  });

  it('without a store log it is a 404 saying so', async () => {
    const k = await startAdminKflog(undo);
    const r = await send(`${k.admin}/api/exchanges`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body).error).toContain('no store log is configured');
  });
});

describe('GET /api/exchanges/:trace', () => {
  it('answers one exchange by trace ID, bodies included, and 404 for a trace ID the store lacks', async () => {
    const k = await storeKflog();
    expect((await send(`${k.proxy}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"grace"}' })).status).toBe(200);
    const [row] = await waitFor('the row in the store', async () => {
      const rows = await listed(k.admin);
      return rows.length === 1 && rows[0]!.status !== null && rows;
    });
    const one = await send(`${k.admin}/api/exchanges/${row!.trace_id}`);
    expect(one.status).toBe(200);
    const show = JSON.parse(one.body);
    expect(show).toMatchObject({ trace_id: row!.trace_id, method: 'POST', status: 200, req_body: '{"name":"grace"}' });
    const missing = await send(`${k.admin}/api/exchanges/01900000-0000-7000-8000-000000000000`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error).toBe('no exchange with trace ID 01900000-0000-7000-8000-000000000000 in the store');
  });
});
