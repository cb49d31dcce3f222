import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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

/** A real kflog whose one forward goes to the builtin sample API and whose log "store" writes a store in a temp dir. */
export async function startStoreKflog(undo: UndoList, store: Record<string, unknown> = {}, log: Record<string, unknown> = {}): Promise<StoreKflog> {
  const { dir, cleanup } = tempDir('store');
  undo.push(cleanup);
  const db = join(dir, 'private', 'exchanges.db');
  const { proc, addresses } = await startKflog(storeKflogConfig(db, store, log), dir);
  undo.push(() => proc.stop());
  return { proc, base: `http://${addresses.demo!}`, dir, db };
}

/** startStoreKflog's config: the forward `id` to the builtin sample API, bodies captured, its log "store" at `db`. */
export function storeKflogConfig(db: string, store: Record<string, unknown> = {}, log: Record<string, unknown> = {}, id = 'demo') {
  return {
    forwards: [
      { id, listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true, max_body_bytes: 65536 } },
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
