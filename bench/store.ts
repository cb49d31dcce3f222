/**
 * Exchange store throughput and retention: the store encoder's frames (a request and an access entry per exchange)
 * written through the real StoreWriter in the batches a log hands it, on a fresh SQLite file, for two kinds of
 * exchange: POSTs with 4 KiB captured bodies each way (issue 19's target), and the proxy bench's own small GETs
 * (wrk's request, a 34-byte JSON answer), whose cost per row is what the store takes from the proxy there. Then a
 * long run of the large ones against a small max_size_mb, with the file's size (database + WAL) every 10,000
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
/** The proxy bench's answer (bench/upstream.ts and its nginx stand-in). */
const SMALL_ANSWER = '{"users":[{"id":1,"name":"alice"}]}';

type ExchangeKind = 'large' | 'small';
/** Exchanges a batch: about what a log hands its writer at a few thousand exchanges a second. */
const BATCH = 200;
const MB = 1024 * 1024;

function exchange(n: number, kind: ExchangeKind): [RequestEntry, AccessEntry] {
  const now = Date.now();
  const trace = `0193a1b2-c3d4-7e5f-8a9b-${n.toString(16).padStart(12, '0')}`;
  const forward = { id: 'users', listen_port: 8080, backend: 'echo' };
  const large = kind === 'large';
  const body = { bytes: BODY.length, text: BODY, truncated: false };
  const answer = large ? body : { bytes: SMALL_ANSWER.length, text: SMALL_ANSWER, truncated: false };
  const request: RequestInfo = large
    ? {
        remote_ip: '127.0.0.1', remote_port: '49496', proto: 'HTTP/1.1', method: 'POST', host: '127.0.0.1:8080', uri: `/api/users/${n}?page=2`,
        headers: { Host: ['127.0.0.1:8080'], 'User-Agent': ['curl/8.5.0'], 'Content-Type': ['application/json'], Authorization: ['Bearer secret'] },
        body,
      }
    : { remote_ip: '127.0.0.1', remote_port: '49496', proto: 'HTTP/1.1', method: 'GET', host: '127.0.0.1:8080', uri: '/api/users', headers: { Host: ['127.0.0.1:8080'] } };
  return [
    { kind: 'request', ts: now - 2, level: 'info', logger: 'http.log.request.users', msg: 'received request', trace_id: trace, forward, request },
    {
      kind: 'access', ts: now, level: 'info', logger: 'http.log.access.users', msg: 'handled request', trace_id: trace, forward, request, start: now - 2,
      bytes_read: large ? BODY.length : 0, user_id: '', duration: 0.0014, size: answer.bytes, bytes_sent: answer.bytes + 120, status: n % 50 === 0 ? 502 : 200,
      resp_headers: { 'Content-Type': ['application/json'], 'Content-Length': [String(answer.bytes)], Date: ['Mon, 07 Dec 2026 21:00:00 GMT'] },
      resp_body: answer, upstream: { address: '127.0.0.1:3000' },
      timings: { tq: 0, tw: 0, tc: 0, tr: 1, tt: 1 }, termination_state: '----', conn: { actconn: 1, feconn: 1, beconn: 0, srv_conn: 0, retries: 0 },
    },
  ];
}

/** The store encoder's frames for exchanges [from, from + count), as one batch. */
function batch(from: number, count: number, kind: ExchangeKind = 'large'): string {
  const encoder = createEncoder({ format: 'store' }, { logCredentials: false, isTTY: false });
  let s = '';
  for (let n = from; n < from + count; n++) for (const e of exchange(n, kind)) s += encoder.encode(e) as string;
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
  small: { exchanges: number; perSecond: number };
  retention: { maxSizeMb: number; exchanges: number; sizes: Array<{ after: number; bytes: number }>; largest: number };
}

/** Seconds the writer takes to store `exchanges` exchanges of one kind on a new file. */
async function secondsToStore(path: string, exchanges: number, kind: ExchangeKind): Promise<number> {
  // Batches are encoded before the clock starts: this measures the writer, as the encoder bench measures encoders.
  const batches = Array.from({ length: Math.ceil(exchanges / BATCH) }, (_, i) => batch(i * BATCH, BATCH, kind));
  const writer = storeWriter.create(storeWriter.settings({ output: 'store', path }));
  await writer.open();
  const t0 = process.hrtime.bigint();
  for (const b of batches) await writer.write(b);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await writer.close();
  return seconds;
}

export async function runStoreBench(exchanges = 50_000, retentionExchanges = 100_000, maxSizeMb = 32): Promise<StoreBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-store-'));
  try {
    const seconds = await secondsToStore(join(dir, 'speed.db'), exchanges, 'large');
    const small = { exchanges: exchanges * 2, perSecond: (exchanges * 2) / (await secondsToStore(join(dir, 'small.db'), exchanges * 2, 'small')) };

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
      exchanges, seconds, perSecond: exchanges / seconds, small,
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
    `${r.small.exchanges} of the proxy bench's small GETs: ${Math.round(r.small.perSecond)} exchanges/s ` +
      `(${(1e6 / r.small.perSecond).toFixed(0)} µs of the log thread each).`,
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
