import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';
import { startKflog } from '../helpers/kflog-process.js';
import { kflogCli, send, startStoreKflog, stopAndFlush, traceIds } from './helpers.js';

const MiB = 1024 * 1024;

/** Text that no page compresses away: each body is its own. */
function body(n: number, bytes: number): string {
  let s = `body-${n}-`;
  while (s.length < bytes) s += Math.random().toString(36).slice(2);
  return s.slice(0, bytes);
}

describe('a store log', () => {
  const undo = undoAfterEach();

  it('can be read by kflog ls while kflog is still writing it', async () => {
    const k = await startStoreKflog(undo);
    await send(`${k.base}/api/users`);
    const lines = await waitFor('kflog ls to list the exchange', () => {
      const r = kflogCli(['ls', '--store', k.db]);
      return r.code === 0 && r.stdout.includes(' /api/users ') ? r.stdout : undefined;
    }, 15_000, 100);
    expect(traceIds(lines)).toHaveLength(1);
    expect(k.proc.child.exitCode).toBeNull();
  });

  it('stores credentials as sent when the log sets log_credentials', async () => {
    const k = await startStoreKflog(undo, {}, { log_credentials: true });
    await send(`${k.base}/echo`, { method: 'POST', headers: { Authorization: 'Bearer s3cret', Cookie: 'sid=42' }, body: 'x' });
    await stopAndFlush(k);
    const row = JSON.parse(kflogCli(['ls', '--store', k.db, '--json']).stdout) as { req_headers: Record<string, string[]> };
    expect(row.req_headers.Authorization).toEqual(['Bearer s3cret']);
    expect(row.req_headers.Cookie).toEqual(['sid=42']);
    expect(kflogCli(['ls', '--store', k.db, '--grep', 's3cret']).stdout).not.toBe('');
  });

  it('keeps only what its level admits, as any log', async () => {
    const k = await startStoreKflog(undo, {}, { level: 'error' });
    await send(`${k.base}/api/users`);
    await send(`${k.base}/status/502`);
    await stopAndFlush(k);
    const r = kflogCli(['ls', '--store', k.db]);
    expect(r.stdout.trim().split('\n').map((l) => l.split('  ')[3])).toEqual(['/status/502']);
  });

  it('fills one row from the access entry alone when it includes only access entries', async () => {
    const k = await startStoreKflog(undo, {}, { include: ['http.log.access'] });
    await send(`${k.base}/echo`, { method: 'POST', body: 'only-access' });
    await stopAndFlush(k);
    const row = JSON.parse(kflogCli(['ls', '--store', k.db, '--json']).stdout) as Record<string, unknown>;
    expect(row).toMatchObject({ method: 'POST', path: '/echo', status: 200, req_body: 'only-access', resp_body: 'only-access' });
  });

  it('deletes the oldest exchanges past max_size_mb, and the file shrinks back under it', async () => {
    const k = await startStoreKflog(undo, { max_size_mb: 1 });
    const sent = 60;
    // 60 exchanges of 40 KB each way: about 4.8 MiB of bodies, nearly five times the bound.
    for (let i = 0; i < sent; i++) {
      const r = await send(`${k.base}/echo`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: body(i, 40_000) });
      expect(r.status).toBe(200);
    }
    await stopAndFlush(k);
    expect(statSync(k.db).size).toBeLessThanOrEqual(1 * MiB);
    expect(existsSync(k.db + '-wal')).toBe(false);
    const db = new Database(k.db, { readonly: true });
    const kept = (db.prepare('SELECT req_body FROM exchanges ORDER BY ts').pluck().all() as string[]).map((b) => Number(b.split('-')[1]));
    db.close();
    // The newest are kept, in order, up to the last one sent; the oldest are gone.
    expect(kept.length).toBeGreaterThan(3);
    expect(kept.length).toBeLessThan(sent / 2);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => sent - kept.length + i));
  });

  it('deletes exchanges older than max_age when it opens the store', async () => {
    const first = await startStoreKflog(undo, { max_age: '7d' });
    await send(`${first.base}/status/201`);
    await stopAndFlush(first);
    // Make that exchange eight days old, as if kflog had last run a week ago.
    const db = new Database(first.db);
    db.prepare('UPDATE exchanges SET ts = ts - ?').run(8 * 86_400_000);
    db.close();
    const { proc, addresses } = await startKflog(
      {
        forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
        logging: { logs: { default: { exclude: ['http.log'] }, store: { writer: { output: 'store', path: first.db, max_age: '7d' } } } },
      },
      first.dir,
    );
    undo.push(() => proc.stop());
    await send(`http://${addresses.demo!}/status/202`);
    await stopAndFlush({ ...first, proc });
    const r = kflogCli(['ls', '--store', first.db]);
    expect(r.stdout.trim().split('\n').map((l) => l.split('  ')[4])).toEqual(['202']);
  });
});
