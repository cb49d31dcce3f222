import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import type { AccessEntry, Entry, RequestEntry } from '../src/core/entry.js';
import type { Encoder, EncoderOptions } from '../src/encoders/encoder.js';
import '../src/modules.js';
import { createEncoder } from '../src/encoders/registry.js';

/**
 * Encoder throughput: entries per second for each format, and kflog's json against pino's `logger.info(obj)`
 * writing the same access object to /dev/null, side by side in one run. `node dist/bench/encoders.js` runs it
 * alone; bench/run.ts calls bench(). BENCH_ENCODER_MS sets the length of one measurement (default 1000).
 */

/** The shape bench/run.ts expects (declared here: importing run.ts would run every benchmark). */
export interface EncoderBenchSection {
  title: string;
  markdown: string;
  notes?: string[];
}

const MEASURE_MS = Number(process.env.BENCH_ENCODER_MS ?? 1000);
const ROUNDS = 3;

function sampleAccess(i: number): AccessEntry {
  const ts = Date.now() + i * 0.001;
  return {
    kind: 'access',
    ts,
    level: 'info',
    logger: 'http.log.access.users',
    msg: 'handled request',
    trace_id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    forward: { id: 'users', listen_port: 8080, backend: 'default.users' },
    request: {
      remote_ip: '127.0.0.1',
      remote_port: String(40000 + (i % 20000)),
      proto: 'HTTP/1.1',
      method: 'GET',
      host: 'localhost:8080',
      uri: '/api/users?page=' + (i % 100),
      headers: {
        Host: ['localhost:8080'],
        'User-Agent': ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'],
        Accept: ['application/json'],
        'Accept-Encoding': ['gzip, deflate, br'],
        Referer: ['http://localhost:8080/ui'],
        Authorization: ['Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo'],
      },
    },
    start: ts - 2,
    bytes_read: 0,
    user_id: '',
    duration: 0.00140379,
    size: 34,
    bytes_sent: 165,
    status: 200,
    resp_headers: { 'Content-Type': ['application/json'], 'Content-Length': ['34'], Date: ['Sat, 21 Nov 2026 08:46:30 GMT'] },
    upstream: { address: '10.0.0.7:8080', pod: 'users-7d9f8c-x2k4q' },
    timings: { tq: 0, tw: 0, tc: 0, tr: 1, tt: 1 },
    termination_state: '----',
    conn: { actconn: 3, feconn: 2, beconn: 1, srv_conn: 1, retries: 0 },
  };
}

function withBodies(e: AccessEntry): AccessEntry {
  const reqText = '{"name":"John","tags":["a","b"],"n":42}';
  const respText = '{"users":[{"id":1,"name":"John"},{"id":2,"name":"Jane"}],"total":2}';
  return {
    ...e,
    request: { ...e.request, method: 'POST', body: { bytes: reqText.length, text: reqText, truncated: false, content_type: 'application/json' } },
    resp_body: { bytes: respText.length, text: respText, truncated: false, content_type: 'application/json' },
  };
}

function requestOf(e: AccessEntry): RequestEntry {
  return { kind: 'request', ts: e.start, level: 'info', logger: 'http.log.request.users', msg: 'received request', trace_id: e.trace_id, forward: e.forward, request: e.request };
}

const POOL = 512;
const accesses = Array.from({ length: POOL }, (_, i) => sampleAccess(i));

/** Entries per second of fn over the pool, best of ROUNDS. Each call counts as `perCall` entries. */
function rate(fn: (i: number) => number, perCall = 1): number {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < MEASURE_MS) {
      for (let k = 0; k < 1000; k++) sink += fn(n++ % POOL);
      t = performance.now();
    }
    best = Math.max(best, (n * perCall * 1000) / (t - t0));
  }
  if (sink === -1) console.log(sink); // keeps the work observable
  return best;
}

function encodeRate(options: EncoderOptions, entries: Entry[][], perCall: number): number {
  const enc: Encoder = createEncoder(options, { logCredentials: false, isTTY: false });
  return rate((i) => {
    let len = 0;
    for (const e of entries[i]!) len += (enc.encode(e) ?? '').length;
    return len;
  }, perCall);
}

/** kflog's json encoder + the pipeline's way of writing (batches of ~64 KiB) to /dev/null. */
function kflogJsonToDevNull(): number {
  const enc = createEncoder({ format: 'json' }, { logCredentials: false, isTTY: false });
  const fd = openSync('/dev/null', 'w');
  let batch = '';
  try {
    return rate((i) => {
      batch += enc.encode(accesses[i]!) as string;
      if (batch.length >= 65536) {
        writeSync(fd, batch);
        batch = '';
      }
      return 1;
    });
  } finally {
    closeSync(fd);
  }
}

/** pino's logger.info(obj) with the same object, buffered the same way (SonicBoom, 64 KiB) to /dev/null. */
function pinoToDevNull(): number {
  const dest = pino.destination({ dest: '/dev/null', sync: true, minLength: 65536, maxWrite: 131072 });
  const logger = pino({ base: undefined }, dest);
  // The same data as kflog's access entry, minus the discriminant kflog keeps for its own routing.
  const objects = accesses.map(({ kind: _kind, level: _level, ts: _ts, msg: _msg, ...rest }) => rest);
  const r = rate((i) => {
    logger.info(objects[i]!, 'handled request');
    return 1;
  });
  dest.flushSync();
  return r;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function bench(): Promise<EncoderBenchSection> {
  const plain: Entry[][] = accesses.map((a) => [a]);
  const exchange: Entry[][] = accesses.map((a) => {
    const full = withBodies(a);
    return [requestOf(full), full];
  });
  const cases: Array<[string, EncoderOptions, Entry[][], number]> = [
    ['json', { format: 'json' }, plain, 1],
    ['json (rfc3339_nano, duration string, upper level)', { format: 'json', time_format: 'rfc3339_nano', duration_format: 'string', level_format: 'upper' }, plain, 1],
    ['clf combined', { format: 'clf', variant: 'combined' }, plain, 1],
    ['clf common', { format: 'clf', variant: 'common' }, plain, 1],
    ['haproxy', { format: 'haproxy' }, plain, 1],
    ['haproxy (syslog header, 3 captures)', { format: 'haproxy', syslog_header: true, capture_request_headers: [{ name: 'Host' }, { name: 'User-Agent' }], capture_response_headers: [{ name: 'Content-Type' }] }, plain, 1],
    ['logfmt', { format: 'logfmt' }, plain, 1],
    ['console', { format: 'console' }, plain, 1],
    ['kftray classic (request + response block, JSON bodies)', { format: 'kftray' }, exchange, 2],
    ['kftray rest-client (request + response block, JSON bodies)', { format: 'kftray', style: 'rest-client' }, exchange, 2],
    ['filter → json (ip_mask, hash, query)', { format: 'filter', wrap: { format: 'json' }, fields: { 'request>remote_ip': { filter: 'ip_mask' }, 'request>headers>User-Agent': { filter: 'hash' }, 'request>uri': { filter: 'query', actions: [{ type: 'delete', parameter: 'page' }] } } }, plain, 1],
  ];
  const rows: string[] = ['| encoder | entries/s |', '|---|---:|'];
  for (const [name, options, entries, perCall] of cases) rows.push(`| ${name} | ${fmt(encodeRate(options, entries, perCall))} |`);

  // Alternate the two contenders so neither gets a warmer machine.
  let ours = 0;
  let theirs = 0;
  for (let k = 0; k < 2; k++) {
    ours = Math.max(ours, kflogJsonToDevNull());
    theirs = Math.max(theirs, pinoToDevNull());
  }
  const ratio = ours / theirs;
  const vs = [
    '',
    '| same access object → /dev/null | entries/s |',
    '|---|---:|',
    `| kflog json encoder (batched 64 KiB writes) | ${fmt(ours)} |`,
    `| pino ${pinoVersion()} logger.info(obj) (SonicBoom, minLength 64 KiB) | ${fmt(theirs)} |`,
    `| ratio | ${ratio.toFixed(2)}× |`,
  ];
  return {
    title: 'Encoders (entries per second, one core)',
    markdown: rows.join('\n') + '\n' + vs.join('\n'),
    notes: [
      `Best of ${ROUNDS} rounds of ${MEASURE_MS} ms per row; entries are realistic access entries (6 request headers, 3 response headers, credentials redacted).`,
      `kflog json vs pino: ${ratio.toFixed(2)}× (target ≥ 2×).`,
    ],
  };
}

function pinoVersion(): string {
  return (pino as unknown as { version?: string }).version ?? '';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = await bench();
  process.stdout.write(`## ${s.title}\n\n${s.markdown}\n\n${(s.notes ?? []).map((n) => '- ' + n).join('\n')}\n`);
}
