import { execFile, spawnSync } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ExchangeRow } from '../../src/cli/store-read.js';
import { openStoreForReading } from '../../src/writers/store-db.js';
import { readBody, startUpstream, type Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { CLI, startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { tempDir } from '../helpers/files.js';
import type { UndoList } from '../helpers/cleanup.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built kflog CLI, run to its end within a deadline (ls and show never wait on anything). */
export function kflogCli(args: string[], cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 15_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface StoreKflog {
  proc: KflogProcess;
  /** http://127.0.0.1:PORT of the forward "demo" (kflog's builtin sample API, bodies captured). */
  base: string;
  dir: string;
  db: string;
}

/**
 * The CLI run without blocking this process: what a command talks to over HTTP (an upstream a test serves) must
 * be able to answer while it runs.
 */
export function kflogCliAsync(args: string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      if (err !== null && code === null) reject(new Error(`${err.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A real kflog whose one forward ("demo", its fields overridden by `forward`) goes to the builtin sample API and
 * whose log "store" writes a store in a temp dir.
 */
export async function startStoreKflog(
  undo: UndoList, store: Record<string, unknown> = {}, log: Record<string, unknown> = {}, forward: Record<string, unknown> = {},
): Promise<StoreKflog> {
  const { dir, cleanup } = tempDir('store');
  undo.push(cleanup);
  const db = join(dir, 'private', 'exchanges.db');
  const { proc, addresses } = await startKflog(storeKflogConfig(db, store, log, 'demo', forward), dir);
  undo.push(() => proc.stop());
  return { proc, base: `http://${addresses.demo!}`, dir, db };
}

/**
 * startStoreKflog's config: the forward `id` (its fields overridden by `forward`) to the builtin sample API, bodies
 * captured, its log "store" at `db`.
 */
export function storeKflogConfig(
  db: string, store: Record<string, unknown> = {}, log: Record<string, unknown> = {}, id = 'demo', forward: Record<string, unknown> = {},
) {
  return {
    forwards: [
      { id, listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true, max_body_bytes: 65536 }, ...forward },
    ],
    logging: { logs: { default: { exclude: ['http.log'] }, store: { writer: { output: 'store', path: db, ...store }, ...log } } },
  };
}

/** One request through kflog, its answer read whole, within a deadline. */
export async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

/** Stops kflog with SIGTERM, which flushes every log: after it, all it logged is in the store. */
export async function stopAndFlush(k: StoreKflog): Promise<void> {
  const exited = await Promise.race([
    k.proc.stop('SIGTERM'),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`kflog did not exit after SIGTERM\n${k.proc.stderr}`)), 20_000)),
  ]);
  if (exited.code !== 0) throw new Error(`kflog exited ${exited.code}\n${k.proc.stderr}`);
}

/** The trace ID at the end of each `kflog ls` line. */
export function traceIds(lsOutput: string): string[] {
  return lsOutput.trim().split('\n').filter(Boolean).map((l) => l.split('  ').at(-1)!);
}

/** What an upstream received: the request as it arrived, headers as sent (lower-cased names, in order). */
export interface Received {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: string;
}

/** A real upstream that records every request and answers 200 {"v":1}, or 503 "v2" once `changed` is set. */
export async function recordingUpstream(undo: UndoList): Promise<{ upstream: Upstream; received: Received[]; state: { changed: boolean } }> {
  const received: Received[] = [];
  const state = { changed: false };
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
      received.push({ method: req.method!, url: req.url!, headers, body: body.toString('latin1') });
      if (state.changed) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'X-Version': '2' });
        res.end('v2\n');
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Version': '1' });
        res.end('{"v":1}');
      }
    });
  });
  undo.push(() => upstream.close());
  return { upstream, received, state };
}

/** The stored row `where` picks, once the store log has written it (its access entry too). */
export async function storedRow(db: string, where: string, ...params: unknown[]): Promise<ExchangeRow> {
  return waitFor(`a stored exchange where ${where} (${params.join(', ')})`, () => {
    try {
      const store = openStoreForReading(db);
      try {
        return store.prepare(`SELECT * FROM exchanges WHERE ${where} AND status IS NOT NULL ORDER BY id DESC LIMIT 1`).get(...params) as ExchangeRow | undefined;
      } finally {
        store.close();
      }
    } catch {
      return undefined; // not created yet
    }
  }, 15_000, 50);
}
