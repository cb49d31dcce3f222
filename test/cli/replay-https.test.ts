import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiPaths } from '../../src/pki/paths.js';
import type { UndoList } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { ensureBuilt } from '../helpers/kflog-process.js';
import { kflogCliAsync, startStoreKflog, storedRow, type StoreKflog } from '../store/helpers.js';

/**
 * `kflog show --curl` and `kflog replay` for an exchange of a forward that listens with TLS (`listen_tls:
 * "internal"`): the request is sent again over https, trusting kflog's local CA, and arrives.
 */

/** A GET over https to kflog, trusting its local root only, within a deadline. */
function httpsGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(pkiPaths().rootCert), agent: false, timeout: 10_000 }, (res) => {
      res.resume().on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within the deadline')));
    req.on('error', reject);
    req.end();
  });
}

/** A shell command line run by bash to its end within a deadline: its stdout, and its exit code. */
function bash(line: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', line], { cwd, encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') reject(err);
      else resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

describe('show --curl and replay of an exchange on an https forward', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let previousHome: string | undefined;
  let k: StoreKflog;
  let origin: string;

  beforeAll(async () => {
    ensureBuilt();
    // kflog (and every CLI run below, which inherits this environment) keeps its CA under this HOME.
    const home = tempDir('replay-https-home');
    undos.push(home.cleanup);
    previousHome = process.env.HOME;
    process.env.HOME = home.dir;
    expect(homedir()).toBe(home.dir);
    k = await startStoreKflog(undo, {}, {}, { listen_tls: 'internal' });
    origin = k.base.replace(/^http:/, 'https:');
  });
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
    process.env.HOME = previousHome;
  });

  it('show --curl prints an https:// command trusting the local CA, and running it reaches the forward', async () => {
    expect(await httpsGet(`${origin}/api/users?via=curl`)).toBe(200);
    const row = await storedRow(k.db, 'path = ? AND query = ? AND replay_of IS NULL', '/api/users', 'via=curl');
    const shown = await kflogCliAsync(['show', '--curl', row.trace_id], k.dir);
    expect(shown.stderr).toBe('');
    expect(shown.stdout).toContain(`curl '${origin}/api/users?via=curl' --cacert ${pkiPaths().rootCert}`);
    const ran = await bash(`${shown.stdout.trimEnd()} -sS --max-time 10 -o /dev/null -w '%{http_code}'`, k.dir);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe('200');
    // It went through kflog, which recorded it as a replay of the original.
    const again = await storedRow(k.db, 'replay_of = ?', row.trace_id);
    expect([again.path, again.query]).toEqual(['/api/users', 'via=curl']);
  });

  it('replay sends it again over https to the forward and gets its answer', async () => {
    expect(await httpsGet(`${origin}/api/users?via=replay`)).toBe(200);
    const row = await storedRow(k.db, 'path = ? AND query = ? AND replay_of IS NULL', '/api/users', 'via=replay');
    const r = await kflogCliAsync(['replay', row.trace_id], k.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`Replayed GET ${origin}/api/users?via=replay (forward demo of `)).toBe(true);
    expect(r.stdout).toContain('Status: 200 OK\n');
    const again = await storedRow(k.db, 'replay_of = ?', row.trace_id);
    expect(again.status).toBe(200);
  });
});
