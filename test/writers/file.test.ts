import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import '../../src/modules.js';
import { FileWriter, fileSettings } from '../../src/writers/file.js';
import { WriterPool } from '../../src/writers/pool.js';
import type { WriterHealth, WriterOptions } from '../../src/writers/writer.js';
import { Pipeline } from '../../src/emit/pipeline.js';
import { tempDir } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';
import { numberedAccessEntry } from '../helpers/entries.js';
import { logConfig } from './helpers.js';

function fileWriter(options: Omit<WriterOptions, 'output'>): FileWriter {
  return new FileWriter(fileSettings({ output: 'file', ...options }));
}

class HealthLog implements WriterHealth {
  events: string[] = [];
  down(err: Error): void {
    this.events.push('down: ' + err.message);
  }
  up(): void {
    this.events.push('up');
  }
}

describe('file writer', () => {
  const cleanups = undoAfterEach();

  it('creates a plain file 0600 in directories 0700, "~" meaning the home directory', async () => {
    const t = tempDir('file-modes');
    cleanups.push(t.cleanup);
    const home = process.env.HOME;
    process.env.HOME = t.dir;
    try {
      const w = fileWriter({ filename: '~/a/b/access.log' });
      await w.open();
      await w.write('one\ntwo\n');
      await w.close();
    } finally {
      process.env.HOME = home;
    }
    const path = join(t.dir, 'a', 'b', 'access.log');
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dir, 'a', 'b')).mode & 0o777).toBe(0o700);
    // No roll option: the file keeps its exact name and is the only file.
    expect(readdirSync(join(t.dir, 'a', 'b'))).toEqual(['access.log']);
  });

  it('honours mode and dir_mode given in the config', async () => {
    const t = tempDir('file-custom-modes');
    cleanups.push(t.cleanup);
    const w = fileWriter({ filename: join(t.dir, 'd', 'x.log'), mode: '0640', dir_mode: '0750' });
    await w.write('x\n');
    await w.close();
    expect(statSync(join(t.dir, 'd', 'x.log')).mode & 0o777).toBe(0o640);
    expect(statSync(join(t.dir, 'd')).mode & 0o777).toBe(0o750);
  });

  it('appends to an existing file rather than truncating it', async () => {
    const t = tempDir('file-append');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'x.log');
    writeFileSync(path, 'before\n');
    const w = fileWriter({ filename: path });
    await w.write('after\n');
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe('before\nafter\n');
  });

  it('rolls at roll_size_mb, the configured name linking to the active file', async () => {
    const t = tempDir('file-roll');
    cleanups.push(t.cleanup);
    const w = fileWriter({ filename: join(t.dir, 'access.log'), roll_size_mb: 0.01 });
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 40; i++) await w.write(line.repeat(2));
    await w.close();
    const numbered = readdirSync(t.dir).filter((n) => /^access\.\d+\.log$/.test(n));
    // 80 KiB in 10 KiB files.
    expect(numbered.length).toBeGreaterThanOrEqual(7);
    const link = join(t.dir, 'access.log');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const highest = numbered.map((n) => Number(n.split('.')[1])).sort((a, b) => b - a)[0];
    expect(readlinkSync(link)).toBe(`access.${highest}.log`);
    let total = 0;
    for (const n of numbered) total += statSync(join(t.dir, n)).size;
    expect(total).toBe(80 * 1024);
  });

  it('rolls every roll_interval', async () => {
    const t = tempDir('file-interval');
    cleanups.push(t.cleanup);
    const w = fileWriter({ filename: join(t.dir, 'access.log'), roll_interval: '1s' });
    await w.write('first\n');
    const numbered = (): string[] => readdirSync(t.dir).filter((n) => /^access\.\d+\.log$/.test(n));
    await waitFor('a roll after 1s', () => numbered().length >= 2, 10_000);
    await w.write('second\n');
    await w.close();
    const contents = numbered().map((n) => readFileSync(join(t.dir, n), 'utf8'));
    expect(contents.join('')).toContain('first\n');
    expect(contents.join('')).toContain('second\n');
    expect(contents.some((c) => c === 'first\n')).toBe(true);
  });

  it('roll_keep_days removes rotated files last written before the limit', async () => {
    const t = tempDir('file-keepdays');
    cleanups.push(t.cleanup);
    const old = Date.now() / 1000 - 10 * 86_400;
    const recent = Date.now() / 1000 - 86_400;
    writeFileSync(join(t.dir, 'access.1.log'), 'old\n');
    writeFileSync(join(t.dir, 'access.2.log'), 'recent\n');
    writeFileSync(join(t.dir, 'access.3.log'), 'active\n');
    writeFileSync(join(t.dir, 'other.1.log'), 'not ours\n');
    utimesSync(join(t.dir, 'access.1.log'), old, old);
    utimesSync(join(t.dir, 'other.1.log'), old, old);
    utimesSync(join(t.dir, 'access.2.log'), recent, recent);
    const w = fileWriter({ filename: join(t.dir, 'access.log'), roll_keep_days: 7 });
    await w.write('more\n');
    await w.close();
    expect(existsSync(join(t.dir, 'access.1.log'))).toBe(false);
    expect(readFileSync(join(t.dir, 'access.2.log'), 'utf8')).toBe('recent\n');
    expect(readFileSync(join(t.dir, 'access.3.log'), 'utf8')).toBe('active\nmore\n');
    expect(existsSync(join(t.dir, 'other.1.log'))).toBe(true);
  });

  it('reopens the file on SIGUSR1 after an external logrotate moved it', async () => {
    const t = tempDir('file-reopen');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'access.log');
    const w = fileWriter({ filename: path });
    await w.write('before\n');
    renameSync(path, path + '.1');
    await w.write('still old\n'); // the open descriptor follows the moved file until told to reopen
    await w.reopen();
    await w.write('after\n');
    await w.close();
    expect(readFileSync(path + '.1', 'utf8')).toBe('before\nstill old\n');
    expect(readFileSync(path, 'utf8')).toBe('after\n');
  });

  it('SIGUSR1 (Pipeline.reopen) reopens every log file, after an external logrotate moved them', async () => {
    const t = tempDir('file-reopen-all');
    cleanups.push(t.cleanup);
    const a = join(t.dir, 'a.log');
    const b = join(t.dir, 'b.log');
    const pipeline = new Pipeline([logConfig('a', { output: 'file', filename: a }), logConfig('b', { output: 'file', filename: b })]);
    pipeline.emit(numberedAccessEntry(1));
    await pipeline.flush();
    renameSync(a, a + '.1');
    renameSync(b, b + '.1');
    await pipeline.reopen();
    pipeline.emit(numberedAccessEntry(2));
    await pipeline.close();
    for (const f of [a, b]) {
      expect(readFileSync(f + '.1', 'utf8')).toContain('n=1"');
      expect(readFileSync(f, 'utf8')).toContain('n=2"');
      expect(readFileSync(f, 'utf8')).not.toContain('n=1"');
    }
  });

  it('a failed write (ENOSPC) rejects, leaves no partial bytes, and the writer recovers once the fault is gone', async () => {
    const t = tempDir('file-enospc');
    cleanups.push(t.cleanup);
    const path = join(t.dir, 'access.log');
    // /dev/full answers every write with ENOSPC: a disk that is full, without needing one.
    symlinkSync('/dev/full', path);
    const w = fileWriter({ filename: path });
    await expect(w.write('lost\n')).rejects.toThrow(/ENOSPC/);
    await expect(w.write('lost too\n')).rejects.toThrow(/ENOSPC/);
    unlinkSync(path);
    await w.write('back\n');
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe('back\n');
  });

  it('recreates a file whose directory was deleted, writing the batch that went to the deleted file again', async () => {
    const t = tempDir('file-deleted');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'logs');
    const w = fileWriter({ filename: join(dir, 'access.log') });
    const health = new HealthLog();
    w.watch(health);
    await w.write('one\n');
    rmSync(dir, { recursive: true });
    await w.write('two\n');
    await w.write('three\n');
    await w.close();
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toBe('two\nthree\n');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(health.events).toEqual([`down: ${join(dir, 'access.log')} was deleted; recreating it`, 'up']);
  });

  it('recreates a rolling file whose directory was deleted', async () => {
    const t = tempDir('file-deleted-roll');
    cleanups.push(t.cleanup);
    const dir = join(t.dir, 'logs');
    const w = fileWriter({ filename: join(dir, 'access.log'), roll_size_mb: 1, roll_gzip: true });
    await w.write('one\n');
    rmSync(dir, { recursive: true });
    await w.write('two\n');
    await w.close();
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toBe('two\n');
  });

  it('is one writer for two logs naming the same file, open until the last one closes', async () => {
    const t = tempDir('file-shared');
    cleanups.push(t.cleanup);
    const pool = new WriterPool();
    const path = join(t.dir, 'shared.log');
    const a = pool.acquire({ output: 'file', filename: path });
    const b = pool.acquire({ output: 'file', filename: join(t.dir, '.', 'shared.log') });
    expect(a.key).toBe(b.key);
    await Promise.all([a.write('a1\n'), b.write('b1\n'), a.write('a2\n')]);
    await a.close();
    await b.write('b2\n');
    await b.close();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    await expect(b.write('late\n')).rejects.toThrow(/closed/);
  });

  it('cannot be written where the directory is a file, and writes once the obstacle is gone', async () => {
    const t = tempDir('file-enotdir');
    cleanups.push(t.cleanup);
    const blocker = join(t.dir, 'logs');
    writeFileSync(blocker, 'I am not a directory');
    const w = fileWriter({ filename: join(blocker, 'access.log') });
    await expect(w.open()).rejects.toThrow(/EEXIST|ENOTDIR/);
    await expect(w.write('lost\n')).rejects.toThrow(/EEXIST|ENOTDIR/);
    unlinkSync(blocker);
    await w.write('works\n');
    await w.close();
    expect(readFileSync(join(blocker, 'access.log'), 'utf8')).toBe('works\n');
  });
});
