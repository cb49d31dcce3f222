import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { exchange, parseResponses } from '../helpers/http.js';
import { startKflog } from '../helpers/kflog-process.js';
import { stopAndFlush, storeKflogConfig } from './helpers.js';

interface Row {
  trace_id: string;
  method: string | null;
  path: string | null;
  status: number | null;
  end_ts: number | null;
  req_headers: string | null;
  resp_headers: string | null;
  req_body: string | null;
  resp_body: string | null;
  upstream: string | null;
  tt: number | null;
}

/** A POST on a connection of its own (so the kernel spreads them over the listener processes), its status. */
async function postOnNewConnection(address: string, body: string): Promise<number> {
  const raw = await exchange(
    address,
    `POST /echo HTTP/1.1\r\nHost: ${address}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  return parseResponses(Buffer.from(raw, 'latin1'))[0]?.status ?? 0;
}

describe('a store log with listener_processes 2', () => {
  const undo = undoAfterEach();

  it('stores every exchange of both listener processes as one complete row: request and access entries joined', async () => {
    const { dir, cleanup } = tempDir('store-cluster');
    undo.push(cleanup);
    const db = join(dir, 'exchanges.db');
    const { proc, addresses } = await startKflog({ listener_processes: 2, ...storeKflogConfig(db) }, dir);
    undo.push(() => proc.stop());
    const count = 120;
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) statuses.push(await postOnNewConnection(addresses.demo!, `body-${next++}`));
      }),
    );
    expect(statuses).toEqual(Array(count).fill(200));
    await stopAndFlush({ proc, base: '', dir, db });
    expect(proc.stderr).toMatch(new RegExp(`log "store" written=${2 * count} sampled_out=0 dropped=0 failed=0`));

    const read = new Database(db, { readonly: true });
    const rows = read.prepare('SELECT * FROM exchanges').all() as Row[];
    read.close();
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((r) => r.trace_id)).size).toBe(count);
    // Each body once: every exchange sent is a row, none twice.
    expect(new Set(rows.map((r) => r.req_body))).toEqual(new Set(Array.from({ length: count }, (_, i) => `body-${i}`)));
    for (const r of rows) {
      // From the request entry: method, path, request headers and body; from the access entry: the rest.
      expect([r.method, r.path, r.status]).toEqual(['POST', '/echo', 200]);
      expect(JSON.parse(r.req_headers!)).toMatchObject({ 'Content-Type': ['text/plain'] });
      expect(r.resp_headers).not.toBeNull();
      expect(r.end_ts).not.toBeNull();
      expect(r.tt).toBeGreaterThanOrEqual(0);
      expect(r.resp_body).toBe(r.req_body);
    }
    // Each listener process has its own builtin echo, on a port of its own: both served, and both were stored.
    expect(new Set(rows.map((r) => r.upstream)).size).toBe(2);
  });
});
