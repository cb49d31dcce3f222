import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { harProblems } from '../helpers/har.js';
import { waitFor } from '../helpers/wait.js';
import { kflogCli } from '../store/helpers.js';
import { send } from './helpers.js';
import { startViewerKflog, type ViewerKflog } from './viewer-kflog.js';

/** The viewer's actions as API routes: copy as curl, replay, HAR export, each the CLI command's own modules. */

const undo = undoAfterEach();

type Row = { trace_id: string; path: string; status: number | null; replay_of: string | null };

async function stored(k: ViewerKflog, query = ''): Promise<Row[]> {
  const r = await send(`${k.admin}/api/exchanges${query}`);
  if (r.status !== 200) throw new Error(`GET /api/exchanges${query}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { exchanges: Row[] }).exchanges;
}

async function traceOf(k: ViewerKflog, path: string): Promise<string> {
  const row = await waitFor(`${path} in the store`, async () => (await stored(k)).find((r) => r.path === path && r.status !== null));
  return row.trace_id;
}

const config = (k: ViewerKflog): string => join(k.dir, 'kflog.json');
const db = (k: ViewerKflog): string => join(k.dir, 'exchanges.db');

describe('GET /api/exchanges/:trace/curl', () => {
  it('answers what kflog show --curl prints for the same exchange and config', async () => {
    const k = await startViewerKflog(undo);
    expect((await send(`${k.api}/json/a`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"n":1}' })).status).toBe(200);
    const trace = await traceOf(k, '/json/a');
    const r = await send(`${k.admin}/api/exchanges/${trace}/curl`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    const show = kflogCli(['show', trace, '--curl', '-c', config(k)], k.dir);
    expect(show.code, show.stderr).toBe(0);
    expect(r.body).toBe(show.stdout);
    expect((await send(`${k.admin}/api/exchanges/01900000-0000-7000-8000-000000000000/curl`)).status).toBe(404);
  });
});

describe('POST /api/exchanges/:trace/replay', () => {
  it('sends the request again through its forward with the edits asked, stored as a replay of it', async () => {
    const k = await startViewerKflog(undo);
    expect((await send(`${k.demo}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Old': 'old' }, body: '{"name":"ada"}' })).status).toBe(200);
    const original = await traceOf(k, '/echo');
    const r = await send(`${k.admin}/api/exchanges/${original}/replay`, {
      method: 'POST',
      headers: { Origin: k.admin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ headers: ['X-New: new', 'X-Old:'], body: '{"name":"grace"}' }),
    });
    expect(r.status, r.body).toBe(200);
    const answer = JSON.parse(r.body);
    expect(answer).toMatchObject({ replay_of: original, method: 'POST', url: `${k.demo}/echo`, status: 200, warnings: [] });
    expect(answer.via).toBe(`forward demo of ${config(k)}`);
    // The echo answers with what it got: the body differs from the captured response.
    expect(answer.differences.length).toBeGreaterThan(0);
    const replay = await waitFor('the replay in the store', async () => (await stored(k)).find((x) => x.replay_of === original && x.status !== null));
    const one = JSON.parse((await send(`${k.admin}/api/exchanges/${replay.trace_id}`)).body);
    expect(one.req_body).toBe('{"name":"grace"}');
    expect(one.req_headers['X-New']).toEqual(['new']);
    expect(one.req_headers['X-Old']).toBeUndefined();
  });

  it('is refused without its own Origin (403), for a GET (405), a trace the store lacks (404) and edits it cannot use (400)', async () => {
    const k = await startViewerKflog(undo);
    expect((await send(`${k.api}/json/r`)).status).toBe(200);
    const trace = await traceOf(k, '/json/r');
    const url = `${k.admin}/api/exchanges/${trace}/replay`;
    expect((await send(url, { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await send(url, { method: 'POST', headers: { Origin: 'http://evil.example' }, body: '{}' })).status).toBe(403);
    const get = await send(url);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const missing = await send(`${k.admin}/api/exchanges/01900000-0000-7000-8000-000000000000/replay`, { method: 'POST', headers: { Origin: k.admin }, body: '{}' });
    expect(missing.status).toBe(404);
    for (const [body, error] of [
      ['not json', 'expected a JSON object'],
      ['{"headers":"X: 1"}', 'headers: expected an array'],
      ['{"headers":["no colon"]}', `-H "no colon": expected a header as 'Name: value'`],
      ['{"body":1}', 'body: expected a string'],
    ] as const) {
      const bad = await send(url, { method: 'POST', headers: { Origin: k.admin }, body });
      expect([body, bad.status]).toEqual([body, 400]);
      expect(JSON.parse(bad.body).error).toContain(error);
    }
    // Nothing was sent by any of them.
    expect((await stored(k)).filter((x) => x.replay_of !== null)).toEqual([]);
  });
});

describe('GET /api/har', () => {
  it('answers what kflog export --har writes for the same filters, as a download that validates', async () => {
    const k = await startViewerKflog(undo);
    for (const p of ['/json/1', '/missing/2', '/json/3']) await send(`${k.api}${p}`);
    await waitFor('three complete rows', async () => (await stored(k)).filter((r) => r.status !== null).length === 3);
    for (const [query, flags] of [['', ['--limit', '1000']], ['?status=2xx', ['--status', '2xx', '--limit', '1000']], ['?status=4xx&limit=1', ['--status', '4xx', '--limit', '1']]] as const) {
      const r = await send(`${k.admin}/api/har${query}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-disposition']).toMatch(/^attachment; filename="kflog-[0-9TZ-]+\.har"$/);
      const exported = kflogCli(['export', '--har', '--store', db(k), ...flags], k.dir);
      expect(exported.code, exported.stderr).toBe(0);
      expect(JSON.parse(r.body)).toEqual(JSON.parse(exported.stdout));
      expect(await harProblems(JSON.parse(r.body))).toEqual([]);
    }
  });

  it('exports the exchanges that trace= names, and refuses a filter it cannot use with a 400', async () => {
    const k = await startViewerKflog(undo);
    for (const p of ['/json/a', '/json/b', '/json/c']) await send(`${k.api}${p}`);
    const a = await traceOf(k, '/json/a');
    const c = await traceOf(k, '/json/c');
    const r = await send(`${k.admin}/api/har?trace=${a}&trace=${c}`);
    const urls = (JSON.parse(r.body) as { log: { entries: Array<{ request: { url: string } }> } }).log.entries.map((e) => e.request.url);
    expect(urls).toEqual([`${k.api}/json/a`, `${k.api}/json/c`]);
    const bad = await send(`${k.admin}/api/har?status=9xx`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toContain('status "9xx"');
    expect((await send(`${k.admin}/api/har?colour=red`)).status).toBe(400);
    const big = await send(`${k.admin}/api/har?limit=10001`);
    expect([big.status, JSON.parse(big.body).error]).toEqual([400, 'limit "10001": at most 10000 in one export from the API (kflog export --har has no bound)']);
    expect((await send(`${k.admin}/api/har?trace=${encodeURIComponent("x' OR 1=1")}`)).status).toBe(400);
  });
});

describe('POST /api/clear', () => {
  it('makes the lists start at the clear, unless since= asks further back, and deletes nothing from the store', async () => {
    const k = await startViewerKflog(undo);
    expect((await send(`${k.api}/json/before-clear`)).status).toBe(200);
    await traceOf(k, '/json/before-clear');
    const cleared = await send(`${k.admin}/api/clear`, { method: 'POST', headers: { Origin: k.admin }, body: '{}' });
    expect(cleared.status, cleared.body).toBe(200);
    const at = Date.parse(JSON.parse(cleared.body).cleared_at as string);
    expect(Number.isNaN(at)).toBe(false);
    expect((await send(`${k.api}/json/after-clear`)).status).toBe(200);
    await traceOf(k, '/json/after-clear');
    expect((await stored(k)).map((r) => r.path)).toEqual(['/json/after-clear']);
    const har = JSON.parse((await send(`${k.admin}/api/har`)).body) as { log: { entries: Array<{ request: { url: string } }> } };
    expect(har.log.entries.map((e) => new URL(e.request.url).pathname)).toEqual(['/json/after-clear']);
    expect((await stored(k, '?since=1h')).map((r) => r.path)).toEqual(['/json/after-clear', '/json/before-clear']);
    const ls = kflogCli(['ls', '--json', '-c', config(k)], k.dir);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.trim().split('\n').map((l) => (JSON.parse(l) as Row).path)).toEqual(['/json/after-clear', '/json/before-clear']);
  });

  it('is refused without its own Origin (403) and for a GET (405), and clears nothing then', async () => {
    const k = await startViewerKflog(undo);
    expect((await send(`${k.api}/json/kept`)).status).toBe(200);
    await traceOf(k, '/json/kept');
    const url = `${k.admin}/api/clear`;
    expect((await send(url, { method: 'POST', body: '{}' })).status).toBe(403);
    expect((await send(url, { method: 'POST', headers: { Origin: 'http://evil.example' }, body: '{}' })).status).toBe(403);
    const get = await send(url);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    expect((await stored(k)).map((r) => r.path)).toEqual(['/json/kept']);
  });
});
