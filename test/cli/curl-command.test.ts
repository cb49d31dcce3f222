import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRow } from '../../src/cli/store-read.js';
import type { UndoList } from '../helpers/cleanup.js';
import { program } from '../encoders/corpus.js';
import { kflogCliAsync, recordingUpstream, send, startStoreKflog, storedRow, type Received, type StoreKflog } from '../store/helpers.js';

/** Runs a printed command line as a shell script would, with the real curl, within a deadline. */
function runShell(script: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 20_000, encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr });
    });
  });
}

/** Header names and values an upstream got, sorted (curl orders them its own way), without connection management. */
function sortedHeaders(r: Received): Array<[string, string]> {
  return r.headers.filter(([n]) => n !== 'connection' && n !== 'keep-alive').sort((a, b) => (a[0] + a[1] < b[0] + b[1] ? -1 : 1));
}

describe.skipIf(!program('curl'))('kflog show --curl prints a curl command for the captured request', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: StoreKflog;
  let up: Awaited<ReturnType<typeof recordingUpstream>>;

  beforeAll(async () => {
    up = await recordingUpstream(undo);
    k = await startStoreKflog(undo, {}, {}, { target: { url: up.upstream.url }, capture: { request_body: true, response_body: true, max_body_bytes: 64 } });
  });
  afterAll(async () => {
    while (undos.length > 0) await undos.pop()!();
  });

  async function original(path: string, init: RequestInit): Promise<{ row: ExchangeRow; got: Received }> {
    const before = up.received.length;
    await send(k.base + path, init);
    const row = await storedRow(k.db, 'path = ? AND replay_of IS NULL', path.split('?')[0]);
    return { row, got: up.received[before]! };
  }

  const curlOf = async (trace: string): Promise<string> => {
    const r = await kflogCliAsync(['show', '--curl', trace], k.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it('run by curl, sends the upstream the same method, path, headers and body, and is stored as a replay', async () => {
    const { row, got } = await original('/orders?filter[state]=open&q=a%20b', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Quote': `it's "quoted" $HOME`, 'X-Two': 'a' },
      body: `{"note":"it's $HOME \`x\` café\\n"}\n`,
    });
    const command = await curlOf(row.trace_id);
    const before = up.received.length;
    const ran = await runShell(command);
    expect(ran.code, ran.stderr).toBe(0);
    const again = up.received[before]!;
    expect({ ...again, headers: sortedHeaders(again) }).toEqual({ ...got, headers: sortedHeaders(got) });
    expect((await storedRow(k.db, 'replay_of = ?', row.trace_id)).method).toBe('PATCH');
  });

  it('pipes a binary body through base64, and curl sends it byte for byte', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0x27, 0x0a, 0x40, 0x80, 0x00, 0x41]);
    const { row, got } = await original('/binary', { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
    const command = await curlOf(row.trace_id);
    expect(command).toContain(`printf '%s' ${bytes.toString('base64')} | base64 -d | \\\ncurl `);
    const before = up.received.length;
    expect((await runShell(command)).code).toBe(0);
    expect(Buffer.from(up.received[before]!.body, 'latin1')).toEqual(bytes);
    expect(up.received[before]!.body).toBe(got.body);
  });

  it('leaves a redacted Authorization out, with a comment saying how to supply it', async () => {
    const { row } = await original('/secret', { method: 'GET', headers: { Authorization: 'Bearer s3cret' } });
    const command = await curlOf(row.trace_id);
    expect(command).toContain("# Authorization was redacted in the store and is left out: add -H 'Authorization: …' with the real value to send it\n");
    expect(command).not.toMatch(/^ +-H 'Authorization/m);
    expect(command).not.toContain('s3cret');
  });

  it('says in a comment that a truncated body is sent only as far as it was captured', async () => {
    const { row } = await original('/big', { method: 'POST', body: 'y'.repeat(100) });
    const command = await curlOf(row.trace_id);
    expect(command).toContain('# its body was truncated by max_body_bytes (64 bytes of 100 bytes captured): only the captured part is sent\n');
    expect(command).toContain(`--data-binary ${'y'.repeat(64)}\n`);
  });

  it('is refused together with --json, naming both, exit 2', async () => {
    const r = await kflogCliAsync(['show', '--curl', '--json', '01a2'], k.dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kflog: --json and --curl: give one of them\n');
  });
});
