import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import type { Kflog } from '../../src/kflog.js';
import { readLines, tempDir } from '../helpers/files.js';
import { waitFor } from '../helpers/wait.js';
import { lineNumber } from './helpers.js';
import { processEntries, processLog, sendRequests, startEchoKflog } from './proxy.js';

// Faults under the real proxy: kflog started from a validated config, the builtin echo API as target, real HTTP
// requests. The proxy must answer every request whatever the log's disk does.

/** A tiny tmpfs, when this process may mount one (root with CAP_SYS_ADMIN); undefined otherwise. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Fills the filesystem at `dir` with one file until ENOSPC. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096, 0x66);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

function entriesAbout(file: string, msg: string, log: string): Array<Record<string, unknown>> {
  return processEntries(file).filter((e) => e.msg === msg && e.log === log);
}

/** Waits until the log has settled every entry so far: written, failed or dropped (the proxy emits each access entry
 * as its exchange ends, which may be just after the client got its response). */
async function accountedFor(app: Kflog, log: string, n: number): Promise<void> {
  await waitFor(`${n} entries of log "${log}" settled`, async () => {
    await app.pipeline.flush();
    const s = app.pipeline.stats().find((x) => x.name === log)!;
    return s.written + s.failed + s.dropped === n;
  });
}

describe('file log faults under the real proxy', () => {
  const undo = undoAfterEach();

  async function run(logs: Record<string, unknown>): Promise<Kflog> {
    const app = await startEchoKflog(logs);
    undo.push(() => app.stop(1000));
    return app;
  }

  it('keeps answering on a full disk, reports it once, and writes again once space is freed', async (ctx) => {
    const t = tempDir('fault-enospc');
    undo.push(t.cleanup);
    const disk = join(t.dir, 'disk');
    mkdirSync(disk);
    if (!mountTmpfs(disk, '256k')) {
      console.warn('SKIPPED: cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN); the /dev/full test in file.test.ts covers ENOSPC');
      ctx.skip();
      return;
    }
    undo.push(() => {
      execFileSync('umount', ['-l', disk]);
    });
    const logFile = join(disk, 'access.log');
    const kflogFile = join(t.dir, 'kflog.log');
    const app = await run({
      access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      process: processLog(kflogFile),
    });
    await waitFor('log file created', () => existsSync(logFile));
    fillUp(join(disk, 'filler'));

    const during = await sendRequests(app, 0, 60);
    expect(during.every((s) => s === 200)).toBe(true);
    const failures = await waitFor('the failure report', () => {
      const f = entriesAbout(kflogFile, 'log writer failed', 'access');
      return f.length > 0 && f;
    });
    expect(String(failures[0]!.error)).toMatch(/ENOSPC/);

    await accountedFor(app, 'access', 60);
    unlinkSync(join(disk, 'filler'));
    const after = await sendRequests(app, 60, 20);
    expect(after.every((s) => s === 200)).toBe(true);
    await waitFor('the recovery report', () => entriesAbout(kflogFile, 'log writer recovered', 'access').length === 1);
    const stats = (await app.stop()).find((s) => s.name === 'access')!;

    // Reported once for the whole outage, not once per line.
    expect(entriesAbout(kflogFile, 'log writer failed', 'access')).toHaveLength(1);
    const lines = readLines(logFile);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow(); // no half line left by a failed batch
    const numbers = lines.map(lineNumber);
    expect(numbers.filter((n) => n >= 60)).toEqual(Array.from({ length: 20 }, (_, i) => 60 + i));
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.written).toBe(lines.length);
    expect(stats.written + stats.failed + stats.dropped).toBe(80);
  });

  it('keeps answering when the log directory cannot be created, and writes once the obstacle is removed', async () => {
    const t = tempDir('fault-unwritable');
    undo.push(t.cleanup);
    const blocker = join(t.dir, 'logs');
    writeFileSync(blocker, 'a file where the log directory should be\n'); // stops root too, unlike chmod
    const logFile = join(blocker, 'access.log');
    const kflogFile = join(t.dir, 'kflog.log');
    const app = await run({
      access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      process: processLog(kflogFile),
    });
    // Reported at start, before any line is due.
    const failures = await waitFor('the failure report', () => {
      const f = entriesAbout(kflogFile, 'log writer failed', 'access');
      return f.length > 0 && f;
    });
    expect(String(failures[0]!.error)).toMatch(/EEXIST|ENOTDIR/);
    const during = await sendRequests(app, 0, 40);
    expect(during.every((s) => s === 200)).toBe(true);
    await accountedFor(app, 'access', 40);
    unlinkSync(blocker);
    const after = await sendRequests(app, 40, 10);
    expect(after.every((s) => s === 200)).toBe(true);
    await waitFor('the recovery report', () => entriesAbout(kflogFile, 'log writer recovered', 'access').length === 1);
    const stats = (await app.stop()).find((s) => s.name === 'access')!;
    expect(entriesAbout(kflogFile, 'log writer failed', 'access')).toHaveLength(1);
    expect(readLines(logFile).map(lineNumber)).toEqual(Array.from({ length: 10 }, (_, i) => 40 + i));
    expect(stats).toMatchObject({ written: 10, failed: 40, dropped: 0 });
    expect(statSync(blocker).mode & 0o777).toBe(0o700);
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
  });

  it('recreates the log file when its directory is deleted, losing no line written after the deletion', async () => {
    const t = tempDir('fault-deleted');
    undo.push(t.cleanup);
    const dir = join(t.dir, 'logs');
    const logFile = join(dir, 'access.log');
    const kflogFile = join(t.dir, 'kflog.log');
    const app = await run({
      access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      process: processLog(kflogFile),
    });
    await sendRequests(app, 0, 10);
    await accountedFor(app, 'access', 10); // the last write settled: the deletion cannot race its descriptor check
    expect(readLines(logFile)).toHaveLength(10);
    rmSync(dir, { recursive: true });
    const after = await sendRequests(app, 10, 15);
    expect(after.every((s) => s === 200)).toBe(true);
    await waitFor('the file recreated with every later line', () => readLines(logFile).length === 15);
    const stats = (await app.stop()).find((s) => s.name === 'access')!;
    expect(readLines(logFile).map(lineNumber)).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
    expect(stats).toMatchObject({ written: 25, failed: 0, dropped: 0 });
    expect(String(entriesAbout(kflogFile, 'log writer failed', 'access')[0]?.error)).toMatch(/was deleted; recreating it/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
