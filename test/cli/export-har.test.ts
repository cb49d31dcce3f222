import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry as HarEntry, Har } from 'har-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { harProblems, timingProblems } from '../helpers/har.js';
import { waitFor } from '../helpers/wait.js';
import { kflogCli, send, startStoreKflog, stopAndFlush, type StoreKflog } from '../store/helpers.js';
import { BINARY, JSON_BODY, sendHarTraffic } from './har-traffic.js';

function harOf(text: string): Har {
  return JSON.parse(text) as Har;
}

const pathOf = (e: HarEntry): string => new URL(e.request.url).pathname;

describe('kflog export --har writes what a store log captured as HAR 1.2', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: StoreKflog;
  /** `kflog export --har` of the whole store, run once: most tests read it. */
  let all: ReturnType<typeof kflogCli>;

  beforeAll(async () => {
    k = await startStoreKflog(undo);
    await sendHarTraffic(k.base);
    await stopAndFlush(k);
    all = kflogCli(['export', '--har', '--store', k.db]);
  });
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
  });

  const exportHar = (...args: string[]) => kflogCli(['export', '--har', '--store', k.db, ...args]);

  it('is valid HAR per har-validator, its timings within HAR\'s rules, one entry per exchange, oldest first', async () => {
    expect([all.code, all.stderr]).toEqual([0, '']);
    const har = harOf(all.stdout);
    expect(await harProblems(har)).toEqual([]);
    expect(timingProblems(har)).toEqual([]);
    expect(har.log.entries.map((e) => [e.request.method, pathOf(e), e.response.status])).toEqual([
      ['GET', '/api/users', 200],
      ['POST', '/echo', 200],
      ['POST', '/echo', 200],
      ['GET', '/status/503', 503],
      ['GET', '/delay/150', 200],
    ]);
    expect(har.log.entries[0]!.request.url).toBe(`${k.base}/api/users?page=2`);
  });

  it('keeps a text body as text and a binary one as base64 with its encoding', () => {
    const [users, json, binary] = harOf(all.stdout).log.entries;
    expect(users!.response.content).toEqual({ size: 34, mimeType: 'application/json', text: '{"users":[{"id":1,"name":"John"}]}' });
    expect(json!.request.postData).toEqual({ mimeType: 'application/json', text: JSON_BODY });
    expect(binary!.response.content).toEqual({ size: BINARY.length, mimeType: 'application/octet-stream', text: Buffer.from(BINARY).toString('base64'), encoding: 'base64' });
    expect(binary!.request.postData).toMatchObject({ text: Buffer.from(BINARY).toString('base64'), encoding: 'base64' });
  });

  it('keeps the store\'s redaction: the credential is REDACTED and its value appears nowhere', () => {
    expect(harOf(all.stdout).log.entries[1]!.request.headers).toContainEqual({ name: 'Authorization', value: 'REDACTED' });
    expect(all.stdout).not.toContain('s3cret');
  });

  it('its time is the store\'s Tt and its wait the store\'s Tr (the slow answer waited its 150 ms)', () => {
    const rows = kflogCli(['ls', '--store', k.db, '--json']).stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; tr: number; tt: number }).reverse();
    const entries = harOf(all.stdout).log.entries;
    expect(entries.map((e) => [pathOf(e), e.time, e.timings.wait])).toEqual(rows.map((r) => [r.path, r.tt, r.tr]));
    expect(entries[4]!.timings.wait).toBeGreaterThanOrEqual(150);
  });

  it('takes kflog ls\'s filters: --status 5xx', () => {
    expect(harOf(exportHar('--status', '5xx').stdout).log.entries.map(pathOf)).toEqual(['/status/503']);
  });

  it('--limit keeps the newest, written oldest first', () => {
    expect(harOf(exportHar('--limit', '2').stdout).log.entries.map(pathOf)).toEqual(['/status/503', '/delay/150']);
  });

  it('-o writes the file, 0600, and says how many exchanges it holds', () => {
    const { dir, cleanup } = tempDir('har-out');
    undo.push(cleanup);
    const out = join(dir, 'exchanges.har');
    const r = exportHar('--method', 'POST', '-o', out);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', `kflog: wrote 2 exchanges to ${out}\n`]);
    expect(harOf(readFileSync(out, 'utf8')).log.entries).toHaveLength(2);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  });
});

describe('kflog export on bad input', () => {
  const undo = undoAfterEach();
  const dir = (): string => {
    const t = tempDir('har-bad');
    undo.push(t.cleanup);
    return t.dir;
  };

  it('without --har names the flag it needs and exits 2', () => {
    const r = kflogCli(['export', '--store', join(dir(), 'none.db')]);
    expect([r.code, r.stderr]).toEqual([2, 'kflog: --har: expected (HAR 1.2 is the format kflog export writes)\n']);
  });

  it('a filter with a bad value names the flag as kflog ls does, and exits 2', () => {
    const r = kflogCli(['export', '--har', '--store', join(dir(), 'none.db'), '--status', '7xx']);
    expect([r.code, r.stderr]).toEqual([2, 'kflog: --status "7xx": expected a status such as 404 or a class 1xx to 5xx\n']);
  });

  it('a missing store is one line naming its path, exit 1', () => {
    const path = join(dir(), 'none.db');
    const r = kflogCli(['export', '--har', '--store', path]);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `kflog: no store at ${path} (a log with "writer": { "output": "store" } creates it)\n`]);
  });

  it('an -o file in a directory that does not exist is one line naming it, exit 1', async () => {
    const k = await startStoreKflog(undo);
    await send(`${k.base}/api/users`);
    await stopAndFlush(k);
    const out = join(dir(), 'no', 'such', 'dir', 'x.har');
    const r = kflogCli(['export', '--har', '--store', k.db, '-o', out]);
    expect([r.code, r.stderr]).toEqual([1, `kflog: cannot write ${out}: no such file or directory\n`]);
  });

  it('an exchange still in flight is left out, and the count said', async () => {
    const k = await startStoreKflog(undo);
    await send(`${k.base}/api/users`);
    const slow = new AbortController();
    const pending = fetch(`${k.base}/delay/600000`, { signal: slow.signal }).catch(() => undefined);
    // Killed first: nothing is left to flush, and SIGTERM would wait out the shutdown timeout for that request.
    undo.push(() => pending, () => slow.abort(), () => k.proc.stop('SIGKILL'));
    // The store has the slow request's row, with no status yet.
    await waitFor('the in-flight request in the store', () => kflogCli(['ls', '--store', k.db]).stdout.includes('/delay/600000'), 15_000, 100);
    const r = kflogCli(['export', '--har', '--store', k.db]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('kflog: left out 1 exchange with no response stored yet\n');
    expect(harOf(r.stdout).log.entries.map(pathOf)).toEqual(['/api/users']);
  });
});
