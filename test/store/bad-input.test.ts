import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';
import { STORE_SCHEMA_VERSION } from '../../src/writers/store-db.js';
import { kflogCli } from './helpers.js';

describe('kflog ls and show on bad input', () => {
  const undo = undoAfterEach();
  const dir = (): string => {
    const t = tempDir('store-bad');
    undo.push(t.cleanup);
    return t.dir;
  };

  it('a missing store is one line naming its path, exit 1', () => {
    const path = join(dir(), 'none.db');
    const r = kflogCli(['ls', '--store', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: no store at ${path} (a log with "writer": { "output": "store" } creates it)\n`);
  });

  it('a file that is not a database is one line naming its path, exit 1, for ls and for show', () => {
    const path = join(dir(), 'corrupt.db');
    writeFileSync(path, 'this is not sqlite\n'.repeat(100));
    for (const args of [['ls'], ['show', 'abc']]) {
      const r = kflogCli([...args, '--store', path]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`kflog: ${path} is not a usable kflog store: file is not a database\n`);
    }
  });

  it('a store of a newer schema version is refused by ls, naming both versions', () => {
    const path = join(dir(), 'future.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const r = kflogCli(['ls', '--store', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: ${path} is a store of schema version 99; this kflog knows up to ${STORE_SCHEMA_VERSION} (use a newer kflog, or another path)\n`);
  });

  it('a store of a newer schema version keeps kflog run from starting, naming the log and the path', async () => {
    const d = dir();
    const path = join(d, 'future.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const config = writeConfig(d, {
      forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
      logging: { logs: { store: { writer: { output: 'store', path } } } },
    });
    const p = new KflogProcess(['run', '--config', config], { cwd: d });
    undo.push(() => p.stop('SIGKILL'));
    const exited = await Promise.race([p.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(p.stderr)), 20_000))]);
    expect(exited.code).not.toBe(0);
    expect(p.stderr).toContain(`log "store": ${path} is a store of schema version 99; this kflog knows up to ${STORE_SCHEMA_VERSION}`);
    expect(new Database(path).pragma('user_version', { simple: true })).toBe(99);
  });

  const badFlags: Array<[string[], string]> = [
    [['--since', 'banana'], '--since "banana": expected a duration ago such as 10m, 2h or 7d, or a time such as 2026-12-07T10:00:00Z'],
    [['--until', 'later'], '--until "later": expected a duration ago such as 10m, 2h or 7d, or a time such as 2026-12-07T10:00:00Z'],
    [['--status', '7xx'], '--status "7xx": expected a status such as 404 or a class 1xx to 5xx'],
    [['--slower-than', 'fast'], '--slower-than "fast": expected a duration such as 500ms or 2s'],
    [['--limit', '0'], '--limit "0": expected a whole number above 0'],
    [['--grep', '-/-'], '--grep "-/-": expected a word (letters or digits) to search for'],
  ];
  for (const [args, message] of badFlags) {
    it(`ls ${args.join(' ')} names the flag and what it expects, and exits 2`, () => {
      // The store does not exist either: the flag is judged first, so the message is about the flag.
      const r = kflogCli(['ls', '--store', join(dir(), 'none.db'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`kflog: ${message}\n`);
    });
  }

  it('show of a trace ID with characters no trace ID has names it and exits 2', () => {
    const r = kflogCli(['show', '--store', join(dir(), 'none.db'), 'xyz']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kflog: trace ID "xyz": expected a trace ID or the start of one (hex digits and -)\n');
  });
});
