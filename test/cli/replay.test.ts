import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeRow } from '../../src/cli/store-read.js';
import type { UndoList } from '../helpers/cleanup.js';
import { exchange } from '../helpers/http.js';
import { startUpstream } from '../helpers/upstream.js';
import { kflogCliAsync, recordingUpstream, send, startStoreKflog, storedRow, type Received, type StoreKflog } from '../store/helpers.js';

/** The headers an upstream got that say what was asked, not how the hop went (connection management). */
function asked(r: Received): Array<[string, string]> {
  return r.headers.filter(([n]) => n !== 'connection' && n !== 'keep-alive');
}

describe('kflog replay sends a stored request again', () => {
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

  const replay = (...args: string[]) => kflogCliAsync(['replay', ...args], k.dir);

  /** Sends a request through kflog and returns its stored row and what the upstream received. */
  async function original(path: string, init: RequestInit): Promise<{ row: ExchangeRow; got: Received }> {
    const before = up.received.length;
    await send(k.base + path, init);
    const row = await storedRow(k.db, 'path = ? AND replay_of IS NULL', path.split('?')[0]);
    return { row, got: up.received[before]! };
  }

  it('sends the upstream the same method, path, headers and body as the captured request', async () => {
    const { row, got } = await original('/orders?page=2', {
      method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-Tenant': 'acme', 'X-Quote': "it's" }, body: '{"id":7,"name":"Ada"}',
    });
    const r = await replay(row.trace_id);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const again = up.received.at(-1)!;
    expect(again).not.toBe(got);
    expect({ ...again, headers: asked(again) }).toEqual({ ...got, headers: asked(got) });
    expect(again.headers.map(([n]) => n)).not.toContain('kflog-replay-of');
  });

  it('is stored as an exchange of its own whose replay_of is the original trace ID', async () => {
    const { row } = await original('/stored', { method: 'POST', body: 'hello' });
    const r = await replay(row.trace_id.slice(0, 20));
    expect(r.code).toBe(0);
    const replayed = await storedRow(k.db, 'replay_of = ?', row.trace_id);
    expect(replayed.trace_id).not.toBe(row.trace_id);
    expect(replayed).toMatchObject({ method: 'POST', path: '/stored', req_body: 'hello', status: 200 });
    const json = await kflogCliAsync(['ls', '--json', '--path', '/stored'], k.dir);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { replay_of: string | null }).replay_of)).toEqual([row.trace_id, null]);
    const shown = await kflogCliAsync(['show', replayed.trace_id], k.dir);
    expect(shown.stdout).toContain(`Replay of: ${row.trace_id}\n`);
  });

  it('prints the response as a kftray block, and that nothing differs when the upstream answers the same', async () => {
    const { row } = await original('/same', { method: 'GET' });
    const r = await replay(row.trace_id);
    expect(r.stdout).toMatch(/^Replayed GET http:\/\/127\.0\.0\.1:\d+\/same \(forward demo of .*kflog\.json\)\n-{40}\nReplay of: /);
    expect(r.stdout).toContain('Status: 200 OK\n\nHeaders:\nContent-Type: application/json\nX-Version: 1\n');
    expect(r.stdout).toContain('Body:\n{\n  "v": 1\n}\n');
    expect(r.stdout).toContain('The same as the captured response (Date, Age and Expires not compared).\n');
  });

  it('names a changed status, a changed header and a changed body among the differences', async () => {
    const { row } = await original('/changes', { method: 'GET' });
    up.state.changed = true;
    try {
      const r = await replay(row.trace_id);
      expect(r.code).toBe(0);
      const diff = r.stdout.slice(r.stdout.indexOf('Differences from the captured response:\n'));
      expect(diff).toBe(
        'Differences from the captured response:\n' +
          'status: 200 → 503\n' +
          'header changed: Content-Type: application/json → text/plain\n' +
          'header changed: X-Version: 1 → 2\n' +
          'body changed: 7 bytes → 3 bytes\n' +
          '  first at line 1:\n' +
          '  - {"v":1}\n' +
          '  + v2\n',
      );
    } finally {
      up.state.changed = false;
    }
  });

  it('--to sends the request to another target, without the replay header', async () => {
    const other = await recordingUpstream(undo);
    const { row, got } = await original('/elsewhere', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'to the other one' });
    const r = await replay(row.trace_id, '--to', other.upstream.url);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Replayed POST ${other.upstream.url}/elsewhere (--to)\n`);
    expect(other.received).toHaveLength(1);
    const there = other.received[0]!;
    expect(there).toMatchObject({ method: 'POST', url: '/elsewhere', body: 'to the other one' });
    expect(there.headers).toContainEqual(['content-type', 'text/plain']);
    expect(there.headers.map(([n]) => n)).not.toContain('kflog-replay-of');
    // Its own Host, not the one the client used for kflog.
    expect(there.headers).toContainEqual(['host', `127.0.0.1:${other.upstream.port}`]);
    expect(got.headers).not.toContainEqual(['host', `127.0.0.1:${other.upstream.port}`]);
  });

  it('leaves a redacted Authorization out with a warning, and -H supplies it', async () => {
    const { row, got } = await original('/secret', { method: 'GET', headers: { Authorization: 'Bearer s3cret' } });
    expect(got.headers).toContainEqual(['authorization', 'Bearer s3cret']);
    const without = await replay(row.trace_id);
    expect(without.stderr).toBe("kflog: warning: Authorization was redacted in the store and is left out; -H 'Authorization: …' supplies it\n");
    expect(up.received.at(-1)!.headers.map(([n]) => n)).not.toContain('authorization');
    const supplied = await replay(row.trace_id, '-H', 'Authorization: Bearer s3cret', '-H', 'X-Extra: 1');
    expect(supplied.stderr).toBe('');
    const again = up.received.at(-1)!;
    expect(again.headers).toContainEqual(['authorization', 'Bearer s3cret']);
    expect(again.headers).toContainEqual(['x-extra', '1']);
  });

  it('refuses a request whose body was truncated, saying why, and --force sends what was captured', async () => {
    const body = 'x'.repeat(100);
    const { row } = await original('/big', { method: 'POST', body });
    const before = up.received.length;
    const refused = await replay(row.trace_id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`kflog: trace ${row.trace_id} is not sent: its body was truncated by max_body_bytes (64 bytes of 100 bytes captured); --force sends it as it is\n`);
    expect(refused.stdout).toBe('');
    expect(up.received.length).toBe(before);
    const forced = await replay(row.trace_id, '--force');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('kflog: warning: its body was truncated by max_body_bytes');
    expect(up.received.at(-1)!.body).toBe('x'.repeat(64));
  });

  it('does not record, nor forward, a kflog-replay-of header a client sends that is no trace ID', async () => {
    const forged = ['not-a-trace', '01a25079-e579-7167-bb57-049d4d6063b4, 01a25079-e579-7167-bb57-049d4d6063b5', '01A25079-E579-7167-BB57-049D4D6063B4'];
    for (const [i, value] of forged.entries()) {
      const { row, got } = await original(`/forged${i}`, { method: 'GET', headers: { 'kflog-replay-of': value } });
      expect(row.replay_of).toBeNull();
      expect(got.headers.map(([n]) => n)).not.toContain('kflog-replay-of');
    }
  });

  it('refuses an exchange that was a malformed request, saying so, exit 1', async () => {
    await exchange(k.base.slice('http://'.length), 'THIS IS NOT HTTP\r\n\r\n', { halfClose: true });
    const row = await storedRow(k.db, 'raw_line IS NOT NULL');
    const r = await replay(row.trace_id);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: trace ${row.trace_id} was a malformed request ("THIS IS NOT HTTP"): there is no request to send again\n`);
  });

  it('refuses a request whose body was not captured, saying why, exit 1', async () => {
    const uncaptured = await startStoreKflog(undo, {}, {}, { target: { url: up.upstream.url }, capture: { request_body: false } });
    await send(uncaptured.base + '/uncaptured', { method: 'POST', body: 'twelve bytes' });
    const row = await storedRow(uncaptured.db, 'path = ?', '/uncaptured');
    const r = await kflogCliAsync(['replay', row.trace_id], uncaptured.dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`kflog: trace ${row.trace_id} is not sent: its body was not captured (12 bytes; the forward's capture.request_body is off); --force sends it as it is\n`);
  });

  it('names a -H value that is no header and exits 2', async () => {
    const r = await replay('01a2', '-H', 'no colon here');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kflog: -H "no colon here": expected a header as 'Name: value' (or 'Name:' to leave it out)\n`);
  });

  it('names a --to value that is no http URL and exits 2', async () => {
    const r = await replay('01a2', '--to', 'ftp://x');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kflog: --to "ftp://x": expected an http:// or https:// URL without a query, such as http://127.0.0.1:9000\n');
  });

  it('says in one line that the forward does not answer, and exits 1', async () => {
    const { row } = await original('/gone', { method: 'GET' });
    const closed = await startUpstream(() => undefined);
    await closed.close();
    const r = await replay(row.trace_id, '--to', closed.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^kflog: cannot send GET ${closed.url}/gone: .*ECONNREFUSED.*\\n$`));
  });
});
