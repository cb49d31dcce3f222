import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig, type Exited } from '../helpers/kflog-process.js';
import { waitFor } from '../helpers/wait.js';
import { send, storeKflogConfig } from './helpers.js';

/** Whether process `pid` has `path` open (Linux's /proc: the log thread's SQLite connection is one of its fds). */
function hasOpen(pid: number, path: string): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
    } catch {
      return false; // closed meanwhile
    }
  });
}

/** Stops a kflog with SIGTERM within a deadline; its exit summary is then on its stderr. */
async function stopped(proc: KflogProcess): Promise<Exited> {
  return Promise.race([
    proc.stop('SIGTERM'),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`kflog did not exit after SIGTERM\n${proc.stderr}`)), 20_000)),
  ]);
}

/** `count` POSTs to `base`, `concurrency` at a time, each body naming its forward and number; resolves with their statuses. */
async function postMany(base: string, tag: string, count: number, concurrency = 8): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const n = next++;
        statuses.push((await send(`${base}/echo`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `${tag}-${n}` })).status);
      }
    }),
  );
  return statuses;
}

describe('two kflog processes with one store', () => {
  const undo = undoAfterEach();

  /** A temp dir with the store path both configs name, and two `kflog run` (forwards "a" and "b") started on it. */
  function twoKflogs(beforeStart: (db: string) => void = () => undefined): { db: string; a: KflogProcess; b: KflogProcess } {
    const t = tempDir('store-two');
    undo.push(t.cleanup);
    const db = join(t.dir, 'shared.db');
    beforeStart(db);
    const start = (id: string): KflogProcess => {
      const proc = new KflogProcess(['run', '--config', writeConfig(t.dir, storeKflogConfig(db, {}, {}, id), `${id}.json`)], { cwd: t.dir });
      undo.push(() => proc.stop());
      return proc;
    };
    return { db, a: start('a'), b: start('b') };
  }

  it('both start on a new store file at once: the second waits for the first to create the tables instead of failing', async () => {
    // A third writer holds the write lock of the empty file while both kflogs open it: both find no tables, and
    // both then go to create them, the moment the lock is let go.
    let holder: Database.Database | undefined;
    const { db, a, b } = twoKflogs((path) => {
      writeFileSync(path, '', { mode: 0o600 });
      holder = new Database(path);
      holder.exec('BEGIN IMMEDIATE');
    });
    const procs = [a, b];
    try {
      await waitFor('both kflogs to open the store', () => procs.every((p) => hasOpen(p.child.pid!, db)), 10_000, 5);
    } finally {
      holder!.exec('ROLLBACK');
      holder!.close();
    }
    const [aa, ba] = await Promise.all([a.listening(['a']), b.listening(['b'])]);
    expect((await send(`http://${aa.a!}/echo`, { method: 'POST', body: 'from-a' })).status).toBe(200);
    expect((await send(`http://${ba.b!}/echo`, { method: 'POST', body: 'from-b' })).status).toBe(200);
    for (const p of procs) expect((await stopped(p)).code).toBe(0);
    for (const p of procs) expect(p.stderr).not.toContain('ERROR');
    const read = new Database(db, { readonly: true });
    const rows = read.prepare('SELECT forward, req_body, status FROM exchanges ORDER BY forward').all();
    read.close();
    expect(rows).toEqual([
      { forward: 'a', req_body: 'from-a', status: 200 },
      { forward: 'b', req_body: 'from-b', status: 200 },
    ]);
  });

  it('both taking traffic at once store every exchange of each, once, complete, with no write failed or dropped', async () => {
    const { db, a, b } = twoKflogs();
    const [aa, ba] = await Promise.all([a.listening(['a']), b.listening(['b'])]);
    const perProcess = 400;
    const statuses = await Promise.all([postMany(`http://${aa.a!}`, 'a', perProcess), postMany(`http://${ba.b!}`, 'b', perProcess)]);
    expect(statuses.flat()).toEqual(Array(2 * perProcess).fill(200));
    for (const p of [a, b]) {
      expect((await stopped(p)).code).toBe(0);
      // Two entries (request, access) an exchange, every one written: none lost to the other process's lock.
      expect(p.stderr).toMatch(new RegExp(`log "store" written=${2 * perProcess} sampled_out=0 dropped=0 failed=0`));
    }
    const read = new Database(db, { readonly: true });
    const rows = read.prepare('SELECT forward, trace_id, req_body, resp_body, status FROM exchanges').all() as Array<Record<string, string | number>>;
    read.close();
    expect(rows).toHaveLength(2 * perProcess);
    expect(new Set(rows.map((r) => r.trace_id)).size).toBe(2 * perProcess);
    for (const tag of ['a', 'b']) {
      const bodies = rows.filter((r) => r.forward === tag).map((r) => r.req_body);
      expect(new Set(bodies)).toEqual(new Set(Array.from({ length: perProcess }, (_, i) => `${tag}-${i}`)));
    }
    for (const r of rows) expect([r.status, r.resp_body]).toEqual([200, r.req_body]);
  });
});
