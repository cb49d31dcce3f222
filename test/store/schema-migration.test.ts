import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { kflogCli, send, startStoreKflog, stopAndFlush } from './helpers.js';

const OLD_TRACE = '01a24b8c-041c-7314-a05a-82186ea42832';

/** A store file as kflog wrote it at schema version 1, with one exchange. */
function versionOneStore(path: string): void {
  const db = new Database(path);
  db.exec(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'store', 'schema-v1.sql'), 'utf8'));
  db.close();
}

function version(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('a store of schema version 1', () => {
  const undo = undoAfterEach();
  const oldStore = (): string => {
    const { dir, cleanup } = tempDir('store-v1');
    undo.push(cleanup);
    const path = join(dir, 'v1.db');
    versionOneStore(path);
    return path;
  };

  it('is read by ls as it is, replay_of null, and left at version 1', () => {
    const path = oldStore();
    const r = kflogCli(['ls', '--json', '--store', path]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ trace_id: OLD_TRACE, path: '/api/users', status: 200, replay_of: null });
    expect(version(path)).toBe(1);
  });

  it('is brought to version 3 by kflog run, its exchanges kept, and stores a replay_of', async () => {
    const path = oldStore();
    const k = await startStoreKflog(undo, { path });
    await send(`${k.base}/api/users`, { headers: { 'kflog-replay-of': OLD_TRACE } });
    await stopAndFlush(k);
    expect(version(path)).toBe(3);
    const rows = kflogCli(['ls', '--json', '--store', path]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.path, r.replay_of])).toEqual([['/api/users', OLD_TRACE], ['/api/users', null]]);
    expect(rows[1]!.trace_id).toBe(OLD_TRACE);
  });

  it('loses its insert and update triggers at version 3, the writer indexing each new row once, the old row still found', async () => {
    const path = oldStore();
    const k = await startStoreKflog(undo, { path });
    await send(`${k.base}/api/users`);
    await stopAndFlush(k);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all()).toEqual(['exchanges_fts_delete']);
      expect(db.prepare("SELECT count(*) FROM exchanges_fts WHERE exchanges_fts MATCH 'users'").pluck().get()).toBe(2);
    } finally {
      db.close();
    }
    const found = kflogCli(['ls', '--json', '--grep', 'users', '--store', path]).stdout.trim().split('\n');
    expect(found).toHaveLength(2);
  });
});
