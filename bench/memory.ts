/**
 * Memory bench: a large body through the real `kflog run` process, capture on and off, both directions.
 *
 * Must hold: peak RSS of the kflog process below 150 MB with capture on; throughput with capture on ≥ 0.8× with
 * capture off; the captured prefix (request and response) byte-exact. Rounds interleave on and off, so a busy
 * machine slows both alike; each round is a fresh process, so each peak is its own.
 *
 *   npm run build && node dist/bench/memory.js [--gib 1] [--rounds 3]
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { mb, MiB, numberArg, startKflog } from './kflog-process.js';
import type { BenchSection } from './run.js';

export interface MemoryBenchOptions {
  /** Bytes per transfer. Default 1 GiB. */
  bytes?: number;
  /** Rounds per mode (each round: one download and one upload); the best of them counts. Default 3. */
  rounds?: number;
  maxBodyBytes?: number;
}

export interface TransferFigures {
  /** Best (highest) throughput over the rounds, MiB/s. */
  downloadMiBps: number;
  uploadMiBps: number;
  /** Highest peak RSS of the kflog process over the rounds, bytes. */
  peakRss: number;
}

export interface MemoryBenchResult {
  bytes: number;
  captureOn: TransferFigures;
  captureOff: TransferFigures;
  /** capture on / capture off throughput, the lower of the two directions. */
  ratio: number;
  prefixExact: boolean;
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  passed: boolean;
}

/** 1 MiB of reproducible pseudo-random bytes, repeated: a captured prefix can be compared byte for byte. */
function patternBlock(): Buffer {
  const b = Buffer.allocUnsafe(MiB);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const BLOCK = patternBlock();

async function startUpstream(bytes: number): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(String(n)));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes });
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function* uploadBody(bytes: number): AsyncGenerator<Buffer> {
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, BLOCK.length);
    left -= n;
    yield n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n);
  }
}

interface Round {
  downloadMiBps: number;
  uploadMiBps: number;
  peakRss: number;
  prefixExact: boolean | undefined;
}

async function round(dir: string, origin: string, capture: boolean, bytes: number, maxBodyBytes: number, n: number): Promise<Round> {
  const logFile = join(dir, `access-${capture ? 'on' : 'off'}-${n}.log`);
  const k = await startKflog(join(dir, `kflog-${n}.json`), {
    forwards: [{
      id: 'mem', listen: '127.0.0.1:0', target: { url: origin },
      capture: { request_body: capture, response_body: capture, max_body_bytes: maxBodyBytes },
    }],
    logging: {
      logs: {
        default: { writer: { output: 'discard' } },
        access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      },
    },
  }, 1);
  const url = `http://127.0.0.1:${k.ports[0]}`;
  const agent = new Agent({ connections: 1 });
  try {
    let t0 = performance.now();
    const down = await request(url + '/download', { dispatcher: agent });
    let got = 0;
    for await (const chunk of down.body) got += (chunk as Buffer).length;
    const downloadS = (performance.now() - t0) / 1000;
    if (got !== bytes) throw new Error(`download: got ${got} of ${bytes} bytes`);

    t0 = performance.now();
    const up = await request(url + '/upload', {
      // undici takes async iterables (documented), though its typings list only Readable.
      method: 'POST', dispatcher: agent, body: uploadBody(bytes) as unknown as Readable,
      headers: { 'content-type': 'application/octet-stream' },
    });
    const echoed = Number(await up.body.text());
    const uploadS = (performance.now() - t0) / 1000;
    if (echoed !== bytes) throw new Error(`upload: upstream got ${echoed} of ${bytes} bytes`);

    const peakRss = k.peakRss();
    const code = await k.stop();
    if (code !== 0) throw new Error(`kflog exited ${code}:\n${k.stderr()}`);
    let prefixExact: boolean | undefined;
    if (capture) {
      const entries = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LoggedExchange);
      const expected = Buffer.concat([BLOCK, BLOCK]).subarray(0, Math.min(maxBodyBytes, bytes));
      const download = entries.find((e) => e.request.uri === '/download');
      const upload = entries.find((e) => e.request.uri === '/upload');
      prefixExact =
        exact(download?.resp_body, expected, bytes) &&
        exact(upload?.request.body, expected, bytes) &&
        download?.size === bytes && upload?.bytes_read === bytes;
    }
    return { downloadMiBps: bytes / MiB / downloadS, uploadMiBps: bytes / MiB / uploadS, peakRss, prefixExact };
  } finally {
    await agent.close();
    if (k.child.exitCode === null) k.child.kill('SIGKILL');
  }
}

interface LoggedBody {
  bytes: number;
  truncated: boolean;
  base64?: string;
  text?: string;
}

interface LoggedExchange {
  request: { uri: string; body?: LoggedBody };
  resp_body?: LoggedBody;
  size: number;
  bytes_read: number;
}

function exact(body: LoggedBody | undefined, expected: Buffer, total: number): boolean {
  if (!body || body.bytes !== total || body.truncated !== total > expected.length) return false;
  const kept = body.base64 !== undefined ? Buffer.from(body.base64, 'base64') : Buffer.from(body.text ?? '', 'utf8');
  return kept.equals(expected);
}

export async function runMemoryBench(options: MemoryBenchOptions = {}): Promise<MemoryBenchResult> {
  const bytes = options.bytes ?? 1024 * MiB;
  const rounds = options.rounds ?? 3;
  const maxBodyBytes = options.maxBodyBytes ?? 65536;
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-memory-'));
  const upstream = await startUpstream(bytes);
  const on: Round[] = [];
  const off: Round[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Alternate which mode goes first, so neither always runs on a warmer (or busier) machine.
      const order = i % 2 === 0 ? [false, true] : [true, false];
      for (const capture of order) {
        (capture ? on : off).push(await round(dir, upstream.origin, capture, bytes, maxBodyBytes, i));
      }
    }
  } finally {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = (rs: Round[]): TransferFigures => ({
    downloadMiBps: Math.max(...rs.map((r) => r.downloadMiBps)),
    uploadMiBps: Math.max(...rs.map((r) => r.uploadMiBps)),
    peakRss: Math.max(...rs.map((r) => r.peakRss)),
  });
  const captureOn = figures(on);
  const captureOff = figures(off);
  const ratio = Math.min(captureOn.downloadMiBps / captureOff.downloadMiBps, captureOn.uploadMiBps / captureOff.uploadMiBps);
  const prefixExact = on.every((r) => r.prefixExact === true);
  const checks = [
    { name: 'peak RSS with capture on < 150 MB', ok: captureOn.peakRss < 150e6, detail: mb(captureOn.peakRss) },
    { name: 'throughput capture on ≥ 0.8× off', ok: ratio >= 0.8, detail: ratio.toFixed(2) + '×' },
    { name: 'captured prefixes byte-exact', ok: prefixExact, detail: `${Math.min(maxBodyBytes, bytes)} bytes each way` },
  ];
  return { bytes, captureOn, captureOff, ratio, prefixExact, checks, passed: checks.every((c) => c.ok) };
}

export function formatMemoryBench(r: MemoryBenchResult): string {
  const row = (name: string, f: TransferFigures): string =>
    `  ${name.padEnd(12)} download ${f.downloadMiBps.toFixed(0).padStart(5)} MiB/s   upload ${f.uploadMiBps.toFixed(0).padStart(5)} MiB/s   peak RSS ${mb(f.peakRss)}`;
  return [
    `memory bench: ${mb(r.bytes)} each way through kflog (best of the rounds)`,
    row('capture off', r.captureOff),
    row('capture on', r.captureOn),
    ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
  ].join('\n');
}

/** The `npm run bench` section (BENCH_MEMORY_GIB changes the size, default 1). */
export async function bench(): Promise<BenchSection> {
  const r = await runMemoryBench({ bytes: Number(process.env.BENCH_MEMORY_GIB ?? 1) * 1024 * MiB });
  const row = (name: string, f: TransferFigures): string =>
    `| ${name} | ${f.downloadMiBps.toFixed(0)} | ${f.uploadMiBps.toFixed(0)} | ${(f.peakRss / 1e6).toFixed(1)} |`;
  return {
    title: `Memory: ${mb(r.bytes)} each way through kflog, body capture on vs off`,
    markdown: [
      '| capture | download MiB/s | upload MiB/s | peak RSS (MB) |',
      '|---|---:|---:|---:|',
      row('off', r.captureOff),
      row('on (64 KiB kept per body)', r.captureOn),
    ].join('\n'),
    notes: r.checks.map((c) => `${c.ok ? 'met' : 'NOT met'}: ${c.name} — ${c.detail}`),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runMemoryBench({ bytes: numberArg('gib', 1) * 1024 * MiB, rounds: numberArg('rounds', 3) });
  process.stdout.write(formatMemoryBench(result) + '\n');
  process.exitCode = result.passed ? 0 : 1;
}
