import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { AccessEntry, Level } from '../../src/core/entry.js';
import type { LogConfig } from '../../src/config/types.js';

/** A fresh directory under the system temp dir, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kflog-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** Polls `check` until it returns a truthy value (and returns it); fails with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 25): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A real access entry as the proxy emits it, numbered through its URI and trace id. */
export function accessEntry(n: number, level: Level = 'info', forward = { id: 'users', listen_port: 8080, backend: 'echo' }): AccessEntry {
  const ts = Date.now();
  return {
    kind: 'access',
    ts,
    level,
    logger: `http.log.access.${forward.id}`,
    msg: 'handled request',
    trace_id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    forward,
    request: {
      remote_ip: '127.0.0.1',
      remote_port: '50000',
      proto: 'HTTP/1.1',
      method: 'GET',
      host: '127.0.0.1:8080',
      uri: `/api/users?n=${n}`,
      headers: { 'User-Agent': ['kflog-test/1.0'], Accept: ['application/json'] },
    },
    start: ts - 2,
    bytes_read: 0,
    user_id: '',
    duration: 0.0012,
    size: 34,
    bytes_sent: 150,
    status: level === 'error' ? 502 : 200,
    resp_headers: { 'Content-Type': ['application/json'], 'Content-Length': ['34'] },
    upstream: { address: '127.0.0.1:3000' },
    timings: { tq: 0, tw: 0, tc: 1, tr: 1, tt: 2 },
    termination_state: '----',
    conn: { actconn: 1, feconn: 1, beconn: 1, srv_conn: 1, retries: 0 },
  };
}

/** A log config as src/config would resolve it. */
export function logConfig(name: string, writer: LogConfig['writer'], over: Partial<LogConfig> = {}): LogConfig {
  return {
    name,
    writer,
    encoder: { format: 'json' },
    level: 'debug',
    include: ['http.log.access'],
    exclude: [],
    logCredentials: false,
    queueBytes: 16 * 1024 * 1024,
    outputDeadlineMs: 5000,
    ...over,
  };
}

/** Every line of every file in `dir` whose name starts with `prefix`, .gz files decompressed, links skipped. */
export function linesOfAll(dir: string, prefix: string): string[] {
  const lines: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || name.endsWith('.tmp') || lstatSync(join(dir, name)).isSymbolicLink()) continue;
    const raw = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') lines.push(line);
  }
  return lines;
}

/** The n of "?n=<n>" in a line. */
export function lineNumber(line: string): number {
  const m = /[?&]n=(\d+)/.exec(line);
  if (!m) throw new Error(`no n= in line: ${line.slice(0, 200)}`);
  return Number(m[1]);
}
