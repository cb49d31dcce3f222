/**
 * File writer throughput: kflog's file writer (plain and rolling) and the whole queue → writer path, against a raw
 * fs.createWriteStream writing the same bytes, side by side in one run.
 *
 *   npm run build && node dist/bench/writers.js [MiB per run, default 128]
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LogQueue } from '../src/emit/queue.js';
import { FileWriter, fileSettings } from '../src/writers/file.js';
import { table } from './lib.js';
import type { BenchSection } from './run.js';

export interface WriterBenchRow {
  name: string;
  megabytes: number;
  seconds: number;
  mbPerSecond: number;
  /** Entries the queue dropped (queue row only): a writer that keeps up drops none. */
  dropped?: number;
}

export interface WriterBenchOptions {
  /** Bytes written per contender, in MiB. */
  totalMb?: number;
  /** Directory for the files (default: a fresh one under the system temp dir, removed afterwards). */
  dir?: string;
  /** Runs per contender; the median is reported. Default 3. */
  rounds?: number;
}

/** A realistic access line (~600 bytes of Caddy-style JSON). */
function sampleLine(i: number): string {
  return (
    '{"level":"info","ts":1795253051.0842924,"logger":"http.log.access.users","msg":"handled request","request":' +
    '{"remote_ip":"127.0.0.1","remote_port":"50412","proto":"HTTP/1.1","method":"GET","host":"127.0.0.1:8080","uri":"/api/users?n=' +
    i +
    '","headers":{"User-Agent":["curl/8.5.0"],"Accept":["*/*"]}},"bytes_read":0,"user_id":"","duration":0.001234,"size":34,"status":200,' +
    '"resp_headers":{"Content-Type":["application/json"],"Content-Length":["34"]},"trace_id":"0192f0c4-5b6e-7c3d-8e9f-0a1b2c3d4e5f"}\n'
  );
}

/** 64 KiB batches of lines, as the queue hands a busy writer. */
function batches(totalBytes: number): { list: string[]; lines: string[]; bytes: number } {
  const lines: string[] = [];
  const list: string[] = [];
  let bytes = 0;
  let batch = '';
  for (let i = 0; bytes < totalBytes; i++) {
    const line = sampleLine(i);
    lines.push(line);
    batch += line;
    bytes += line.length;
    if (batch.length >= 64 * 1024) {
      list.push(batch);
      batch = '';
    }
  }
  if (batch) list.push(batch);
  return { list, lines, bytes };
}

function row(name: string, bytes: number, started: bigint, dropped?: number): WriterBenchRow {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const megabytes = bytes / (1024 * 1024);
  return { name, megabytes, seconds, mbPerSecond: megabytes / seconds, ...(dropped !== undefined ? { dropped } : {}) };
}

async function rawStream(path: string, list: string[], bytes: number): Promise<WriterBenchRow> {
  const started = process.hrtime.bigint();
  const ws = createWriteStream(path, { flags: 'a', mode: 0o600 });
  for (const b of list) if (!ws.write(b)) await once(ws, 'drain');
  ws.end();
  await once(ws, 'finish');
  return row('raw fs.createWriteStream', bytes, started);
}

async function fileWriter(name: string, options: Record<string, unknown>, list: string[], bytes: number): Promise<WriterBenchRow> {
  const w = new FileWriter(fileSettings({ output: 'file', ...options }));
  await w.open();
  const started = process.hrtime.bigint();
  for (const b of list) await w.write(b);
  await w.close();
  return row(name, bytes, started);
}

async function queueToFile(path: string, lines: string[], bytes: number): Promise<WriterBenchRow> {
  const w = new FileWriter(fileSettings({ output: 'file', filename: path }));
  await w.open();
  const q = new LogQueue(w, 16 * 1024 * 1024, { onFailure: () => undefined, onRecovery: () => undefined, onDrop: () => undefined });
  const started = process.hrtime.bigint();
  // The proxy's side: lines pushed one by one, ~1000 per event-loop turn; every ~5 MB the producer waits for the
  // writer, so this measures what the path sustains rather than how fast a 16 MiB queue overflows.
  for (let i = 0; i < lines.length; i++) {
    q.push(lines[i]!);
    if (i % 8192 === 8191) await q.idle();
    else if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await q.close();
  return row('kflog LogQueue → file writer', bytes, started, q.dropped);
}

/**
 * Runs every contender over the same bytes, `rounds` times in turn (each file removed right after its run, so
 * one contender's dirty pages do not slow the next); returns each contender's median row, raw first.
 */
export async function benchFileWriters(options: WriterBenchOptions = {}): Promise<WriterBenchRow[]> {
  const totalMb = options.totalMb ?? 128;
  const rounds = options.rounds ?? 3;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kflog-bench-writers-'));
  const { list, lines, bytes } = batches(totalMb * 1024 * 1024);
  const contenders: Array<(d: string) => Promise<WriterBenchRow>> = [
    (d) => rawStream(join(d, 'raw.log'), list, bytes),
    (d) => fileWriter('kflog file writer (plain)', { filename: join(d, 'plain.log') }, list, bytes),
    (d) => fileWriter('kflog file writer (pino-roll, 32 MiB files)', { filename: join(d, 'rolled.log'), roll_size_mb: 32 }, list, bytes),
    // Compression runs beside the writes; close() waits for it, so its cost is in this row.
    (d) => fileWriter('kflog file writer (pino-roll + gzip, to the end)', { filename: join(d, 'gz.log'), roll_size_mb: 32, roll_gzip: true }, list, bytes),
    (d) => queueToFile(join(d, 'queued.log'), lines, bytes),
  ];
  const results: WriterBenchRow[][] = contenders.map(() => []);
  try {
    for (let r = 0; r < rounds; r++) {
      for (let c = 0; c < contenders.length; c++) {
        const runDir = join(dir, `r${r}c${c}`);
        mkdirSync(runDir);
        results[c]!.push(await contenders[c]!(runDir));
        rmSync(runDir, { recursive: true, force: true });
      }
    }
    return results.map((rows) => rows.sort((a, b) => a.mbPerSecond - b.mbPerSecond)[Math.floor(rows.length / 2)]!);
  } finally {
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
}

export function formatWriterBench(rows: WriterBenchRow[]): string {
  const raw = rows[0]!.mbPerSecond;
  return rows
    .map(
      (r) =>
        `${r.name.padEnd(50)} ${r.megabytes.toFixed(0).padStart(5)} MiB ${r.seconds.toFixed(2).padStart(7)} s ` +
        `${r.mbPerSecond.toFixed(0).padStart(6)} MiB/s  ${((r.mbPerSecond / raw) * 100).toFixed(0).padStart(4)}% of raw` +
        (r.dropped !== undefined ? `  dropped=${r.dropped}` : ''),
    )
    .join('\n');
}

/** The section of `npm run bench` (bench/run.ts); BENCH_WRITERS_MB sets the MiB written per run. */
export async function bench(): Promise<BenchSection> {
  const totalMb = Number(process.env.BENCH_WRITERS_MB ?? 128);
  const rows = await benchFileWriters({ totalMb });
  const raw = rows[0]!.mbPerSecond;
  return {
    title: `File writer throughput: ${totalMb} MiB of ~600-byte JSON lines in 64 KiB batches, vs a raw fs.createWriteStream (median of 3)`,
    markdown: table(
      ['writer', 'MiB/s', '% of raw', 'seconds', 'dropped'],
      rows.map((r) => [r.name, r.mbPerSecond, Math.round((r.mbPerSecond / raw) * 100) + '%', r.seconds, r.dropped === undefined ? '-' : String(r.dropped)]),
    ),
    notes: [
      'raw: fs.createWriteStream, writing each batch without waiting beyond its drain event.',
      'kflog: each batch awaited as the log queue does (one write in flight per writer), SonicBoom underneath; pino-roll rows roll every 32 MiB.',
      'gzip row: close() waits for the background compression of rotated files, so its cost is counted.',
      'LogQueue row: lines pushed one at a time as the proxy does, batched by the queue, no drops allowed.',
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const totalMb = Number(process.argv[2] ?? 128);
  const rows = await benchFileWriters({ totalMb });
  process.stdout.write(formatWriterBench(rows) + '\n');
}
