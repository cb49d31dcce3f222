/**
 * Exchange store throughput and retention: the store encoder's lines (a request and an access entry per exchange,
 * 4 KiB captured bodies each way) written through the real StoreWriter in the batches a log hands it, on a fresh
 * SQLite file. Then a long run against a small max_size_mb, with the file's size (database + WAL) every 10,000
 * exchanges: retention must hold it under the bound.
 *
 *   npm run build && node dist/bench/store.js [exchanges, default 50000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AccessEntry, RequestEntry, RequestInfo } from '../src/core/entry.js';
import { createEncoder } from '../src/encoders/registry.js';
import '../src/modules.js';
import { storeWriter } from '../src/writers/store.js';
import { table } from './lib.js';
import type { BenchSection } from './run.js';

const BODY = JSON.stringify({ items: Array.from({ length: 60 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b'] })) }).slice(0, 4096);
/** Exchanges a batch: about what a log hands its writer at a few thousand exchanges a second. */
const BATCH = 200;
const MB = 1024 * 1024;

function exchange(n: number): [RequestEntry, AccessEntry] {
  const now = Date.now();
  const trace = `0193a1b2-c3d4-7e5f-8a9b-${n.toString(16).padStart(12, '0')}`;
  const forward = { id: 'users', listen_port: 8080, backend: 'echo' };
  const body = { bytes: BODY.length, text: BODY, truncated: false };
  const request: RequestInfo = {
    remote_ip: '127.0.0.1', remote_port: '49496', proto: 'HTTP/1.1', method: 'POST', host: '127.0.0.1:8080', uri: `/api/users/${n}?page=2`,
    headers: { Host: ['127.0.0.1:8080'], 'User-Agent': ['curl/8.5.0'], 'Content-Type': ['application/json'], Authorization: ['Bearer secret'] },
    body,
  };
  return [
    { kind: 'request', ts: now - 2, level: 'info', logger: 'http.log.request.users', msg: 'received request', trace_id: trace, forward, request },
    {
      kind: 'access', ts: now, level: 'info', logger: 'http.log.access.users', msg: 'handled request', trace_id: trace, forward, request, start: now - 2,
      bytes_read: BODY.length, user_id: '', duration: 0.0014, size: BODY.length, bytes_sent: BODY.length + 120, status: n % 50 === 0 ? 502 : 200,
      resp_headers: { 'Content-Type': ['application/json'] }, resp_body: body, upstream: { address: '127.0.0.1:3000' },
      timings: { tq: 0, tw: 0, tc: 0, tr: 1, tt: 1 }, termination_state: '----', conn: { actconn: 1, feconn: 1, beconn: 0, srv_conn: 0, retries: 0 },
    },
  ];
}

/** The store encoder's lines for exchanges [from, from + count), as one batch. */
function batch(from: number, count: number): string {
  const encoder = createEncoder({ format: 'store' }, { logCredentials: false, isTTY: false });
  let s = '';
  for (let n = from; n < from + count; n++) for (const e of exchange(n)) s += encoder.encode(e) as string;
  return s;
}

function fileBytes(path: string): number {
  let total = 0;
  for (const p of [path, path + '-wal']) {
    try {
      total += statSync(p).size;
    } catch {
      // not there (yet)
    }
  }
  return total;
}

export interface StoreBenchResult {
  exchanges: number;
  seconds: number;
  perSecond: number;
  retention: { maxSizeMb: number; exchanges: number; sizes: Array<{ after: number; bytes: number }>; largest: number };
}

export async function runStoreBench(exchanges = 50_000, retentionExchanges = 100_000, maxSizeMb = 32): Promise<StoreBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-store-'));
  try {
    // Batches are encoded before the clock starts: this measures the writer, as the encoder bench measures encoders.
    const batches = Array.from({ length: Math.ceil(exchanges / BATCH) }, (_, i) => batch(i * BATCH, BATCH));
    const writer = storeWriter.create(storeWriter.settings({ output: 'store', path: join(dir, 'speed.db') }));
    await writer.open();
    const t0 = process.hrtime.bigint();
    for (const b of batches) await writer.write(b);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await writer.close();

    const path = join(dir, 'retention.db');
    const kept = storeWriter.create(storeWriter.settings({ output: 'store', path, max_size_mb: maxSizeMb }));
    await kept.open();
    const sizes: Array<{ after: number; bytes: number }> = [];
    const one = batch(0, BATCH);
    for (let n = 0; n < retentionExchanges; n += BATCH) {
      // The same bodies, new trace IDs: each batch is new rows.
      await kept.write(one.replaceAll('0193a1b2-c3d4-7e5f-8a9b-', `0193a1b2-c3d4-7e5f-${(n / BATCH).toString(16).padStart(4, '0')}-`));
      if ((n + BATCH) % 10_000 === 0) sizes.push({ after: n + BATCH, bytes: fileBytes(path) });
    }
    await kept.close();
    return {
      exchanges, seconds, perSecond: exchanges / seconds,
      retention: { maxSizeMb, exchanges: retentionExchanges, sizes, largest: Math.max(...sizes.map((s) => s.bytes)) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function render(r: StoreBenchResult): BenchSection {
  const markdown = [
    `${r.exchanges} exchanges (request + access entry, 4 KiB bodies each way) in ${r.seconds.toFixed(2)} s: ` +
      `**${Math.round(r.perSecond)} exchanges/s** (target ≥ 10,000).`,
    '',
    `Retention, max_size_mb ${r.retention.maxSizeMb}, ${r.retention.exchanges} exchanges: largest file (db + WAL) ` +
      `${(r.retention.largest / MB).toFixed(1)} MiB.`,
    '',
    table(['after exchanges', 'db + WAL, MiB'], r.retention.sizes.map((s) => [String(s.after), (s.bytes / MB).toFixed(1)])),
  ].join('\n');
  return { title: 'Exchange store: write rate and retention', markdown };
}

/** `npm run bench` section (BENCH_ONLY=store). */
export async function bench(): Promise<BenchSection> {
  return render(await runStoreBench());
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runStoreBench(Number(process.argv[2] ?? 50_000));
  process.stdout.write(render(r).markdown + '\n');
  process.exitCode = r.perSecond >= 10_000 && r.retention.largest <= r.retention.maxSizeMb * MB ? 0 : 1;
}
