/**
 * Overload bench: five file logs (json, kftray, clf combined, haproxy with syslog_header, logfmt), request and
 * response capture on, a fast upstream, and 8 clients POSTing 60 KB bodies in a loop — far more than the log
 * side can encode — through the real `kflog run` process (log thread on, the default).
 *
 * Must hold: peak RSS ≤ 400 MB; every log keeps advancing (no 5-second window without new bytes in any file);
 * for every log written + dropped + sampled_out + failed = the exchanges the proxy served, and written = the
 * records in the file; SIGTERM exits within the shutdown deadline + 5 s. Then the same load once more, killed
 * with SIGKILL: every exchange answered more than 1 s before the kill must be in every file, but those kflog had
 * reported dropped (at this load the hand-over refuses entries within the first seconds).
 *
 *   npm run build && node dist/bench/overload.js [--seconds 60] [--clients 8]
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { mb, numberArg, startKflog, type KflogProcess } from './kflog-process.js';
import type { BenchSection } from './run.js';

const BODY_BYTES = 60 * 1024;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const STALL_WINDOW_MS = 5_000;
const FORMATS = ['json', 'kftray', 'clf', 'haproxy', 'logfmt'] as const;
type Format = (typeof FORMATS)[number];

export interface OverloadOptions {
  seconds?: number;
  clients?: number;
  /** Run the SIGKILL step too. Default true. */
  kill?: boolean;
  /** Seconds of load before the SIGKILL. Default 3. */
  killAfterSeconds?: number;
  /** Extra node options for the kflog process (e.g. --cpu-prof), from BENCH_NODE_ARGS. */
  nodeArgs?: string[];
  /** Print RSS and file sizes each second on stderr. */
  trace?: boolean;
}

export interface LogFigures {
  name: Format;
  written: number;
  dropped: number;
  sampledOut: number;
  failed: number;
  /** Records really in the file (lines; blocks for kftray). */
  inFile: number;
  /** Longest time without new bytes in the file while the load ran, ms. */
  longestStallMs: number;
}

export interface OverloadResult {
  seconds: number;
  served: number;
  peakRss: number;
  exitMs: number;
  exitCode: number | null;
  summary: string;
  maxLagMs: number | undefined;
  logs: LogFigures[];
  kill?: {
    served: number;
    answeredBeforeCutoff: number;
    /** Per file: exchanges answered more than 1 s before the kill that are not in it. */
    missing: Record<string, number>;
    reportedDrops: ReportedDrops;
    /** Exchanges answered before both the cutoff and kflog's last drop warning. */
    answeredBeforeReport: number;
    /** Per file: missing among those, less the drops kflog reported — what the crash lost. */
    unaccounted: Record<string, number>;
  };
  checks: Array<{ name: string; ok: boolean; detail: string }>;
  passed: boolean;
}

async function startUpstream(): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
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

/** kflog's own messages in the SIGKILL run, as json lines: the drops it reported before the kill. */
const OWN_LOG = 'kflog.log';

function config(dir: string, origin: string, ownLog = false): unknown {
  const file = (name: string): { output: string; filename: string } => ({ output: 'file', filename: join(dir, `${name}.log`) });
  const access = ['http.log.access'];
  const own = ownLog ? { own: { include: ['kflog'], writer: { output: 'file', filename: join(dir, OWN_LOG) }, encoder: { format: 'json' } } } : {};
  return {
    shutdown_timeout: `${SHUTDOWN_TIMEOUT_MS}ms`,
    forwards: [{ id: 'load', listen: '127.0.0.1:0', target: { url: origin }, capture: { request_body: true, response_body: true } }],
    logging: {
      logs: {
        default: { writer: { output: 'discard' } },
        json: { include: access, writer: file('json'), encoder: { format: 'json' } },
        kftray: { include: ['http.log'], writer: file('kftray'), encoder: { format: 'kftray' } },
        clf: { include: access, writer: file('clf'), encoder: { format: 'clf', variant: 'combined' } },
        haproxy: { include: access, writer: file('haproxy'), encoder: { format: 'haproxy', syslog_header: true } },
        logfmt: { include: access, writer: file('logfmt'), encoder: { format: 'logfmt' } },
        ...own,
      },
    },
  };
}

/** Each client POSTs a 60 KB body in a loop; every answered exchange gets a unique path, to find it in the files. */
function startClients(url: string, clients: number): { stop(): Promise<void>; answered: Array<{ path: string; at: number }> } {
  const agent = new Agent({ connections: clients, pipelining: 1 });
  const body = Buffer.alloc(BODY_BYTES, 'x');
  const answered: Array<{ path: string; at: number }> = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: clients }, async (_, c) => {
    while (running) {
      const path = `/load/${c}/${n++}`;
      try {
        const r = await request(url + path, { method: 'POST', body, dispatcher: agent, headers: { 'content-type': 'text/plain' } });
        await r.body.dump();
        answered.push({ path, at: Date.now() });
      } catch {
        if (running) await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  return {
    answered,
    stop: async () => {
      running = false;
      await Promise.allSettled(loops);
      await agent.destroy();
    },
  };
}

/**
 * Records in a log file (lines; blocks for kftray), read in chunks: a minute of 60 KB bodies is gigabytes, past
 * the longest string V8 can hold.
 */
function records(format: Format, path: string): number {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(8 << 20);
  let n = 0;
  let tail = '';
  try {
    for (;;) {
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      const lines = (tail + chunk.toString('latin1', 0, got)).split('\n');
      tail = lines.pop()!;
      for (const l of lines) if (format === 'kftray' ? /^-{5,}$/.test(l) : l.length > 0) n++;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

/**
 * The drops kflog had reported when its last drop warning was written: the hand-over's ('log thread behind',
 * entries refused before any log saw them) and each log's own ('log queue full'), with that warning's time.
 */
interface ReportedDrops {
  /** ms since the epoch of the last drop warning in the file; undefined when there was none. */
  lastAt: number | undefined;
  handOver: number;
  perLog: Record<string, number>;
}

function reportedDrops(file: string): ReportedDrops {
  const r: ReportedDrops = { lastAt: undefined, handOver: 0, perLog: {} };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return r;
  }
  for (const line of text.split('\n')) {
    // A line cut by the kill is not a report.
    let e: { ts?: number; msg?: string; log?: string; dropped_total?: number };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      continue;
    }
    if (e.ts === undefined || e.dropped_total === undefined) continue;
    if (e.msg === 'log thread behind, entries dropped') r.handOver = Math.max(r.handOver, e.dropped_total);
    else if (e.msg === 'log queue full, entries dropped' && e.log !== undefined) r.perLog[e.log] = Math.max(r.perLog[e.log] ?? 0, e.dropped_total);
    else continue;
    r.lastAt = Math.max(r.lastAt ?? 0, e.ts * 1000);
  }
  return r;
}

/** Which of `paths` the file does not contain, read in chunks (a path never spans more than one chunk's end). */
function missingPaths(file: string, paths: string[]): number {
  const left = new Set(paths);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return left.size;
  }
  const chunk = Buffer.allocUnsafe(8 << 20);
  let tail = '';
  try {
    for (;;) {
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      const text = tail + chunk.toString('latin1', 0, got);
      // A match that touches the end may go on in the next chunk: the tail is scanned again with it.
      for (const m of text.matchAll(/\/load\/\d+\/\d+/g)) if (m.index + m[0].length < text.length) left.delete(m[0]);
      tail = text.slice(-64);
    }
  } finally {
    closeSync(fd);
  }
  return left.size;
}

function parseSummary(summary: string, name: string): { written: number; sampledOut: number; dropped: number; failed: number } {
  const m = new RegExp(`log "${name}" written=(\\d+) sampled_out=(\\d+) dropped=(\\d+) failed=(\\d+)`).exec(summary);
  if (!m) throw new Error(`no counts for log "${name}" in the exit summary:\n${summary}`);
  return { written: Number(m[1]), sampledOut: Number(m[2]), dropped: Number(m[3]), failed: Number(m[4]) };
}

async function overloadRun(dir: string, origin: string, seconds: number, clients: number, options: OverloadOptions): Promise<Omit<OverloadResult, 'checks' | 'passed' | 'kill'>> {
  const k = await startKflog(join(dir, 'kflog.json'), config(dir, origin), 1, options.nodeArgs);
  const load = startClients(`http://127.0.0.1:${k.ports[0]}`, clients);
  const sizes = new Map<Format, number>(FORMATS.map((f) => [f, 0]));
  const lastGrowth = new Map<Format, number>(FORMATS.map((f) => [f, Date.now()]));
  const stalls = new Map<Format, number>(FORMATS.map((f) => [f, 0]));
  const started = Date.now();
  let peakRss = 0;
  const sample = (): void => {
    const now = Date.now();
    try {
      peakRss = Math.max(peakRss, k.peakRss());
    } catch {
      // exited
    }
    for (const f of FORMATS) {
      let size = 0;
      try {
        size = statSync(join(dir, `${f}.log`)).size;
      } catch {
        // not created yet
      }
      if (size > sizes.get(f)!) {
        sizes.set(f, size);
        lastGrowth.set(f, now);
      }
      stalls.set(f, Math.max(stalls.get(f)!, now - lastGrowth.get(f)!));
    }
  };
  const sampler = setInterval(sample, 250);
  const tracer = options.trace
    ? setInterval(() => {
        let rss = 0;
        try {
          rss = k.rss();
        } catch {
          // exited
        }
        const t = ((Date.now() - started) / 1000).toFixed(0);
        process.stderr.write(`t=${t}s rss=${mb(rss)} served=${load.answered.length} ` + FORMATS.map((f) => `${f}=${(sizes.get(f)! / 1e6).toFixed(0)}MB`).join(' ') + '\n');
      }, 1000)
    : undefined;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  sample();
  clearInterval(sampler);
  clearInterval(tracer);
  const t0 = Date.now();
  const code = await stopWithin(k, SHUTDOWN_TIMEOUT_MS + 30_000);
  const exitMs = Date.now() - t0;
  await load.stop();
  const stderr = k.stderr();
  const summary = stderr.split('\n').find((l) => l.includes('exit summary')) ?? '';
  const lags = [...stderr.matchAll(/lag_ms=(\d+)/g)].map((m) => Number(m[1]));
  const logs = FORMATS.map((f): LogFigures => {
    const c = summary ? parseSummary(summary, f) : { written: 0, sampledOut: 0, dropped: 0, failed: 0 };
    let inFile = 0;
    try {
      inFile = records(f, join(dir, `${f}.log`));
    } catch {
      // no file
    }
    return { name: f, ...c, inFile, longestStallMs: stalls.get(f)! };
  });
  return {
    seconds: (t0 - started) / 1000, served: load.answered.length, peakRss, exitMs, exitCode: code, summary,
    maxLagMs: lags.length ? Math.max(...lags) : undefined, logs,
  };
}

async function stopWithin(k: KflogProcess, ms: number): Promise<number | null> {
  const timer = setTimeout(() => k.child.kill('SIGKILL'), ms);
  try {
    return await k.stop();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The same load, SIGKILL after `after` s: which exchanges answered more than 1 s before the kill are missing, per
 * file, and how many of those kflog's reports account for. Under this load entries are dropped at the source, and
 * counted; a crash must lose none that kflog had taken. Every exchange answered before the last drop warning was
 * emitted before it, so if it was dropped that warning counts it: missing among those ≤ the drops it reports.
 */
async function killRun(dir: string, origin: string, after: number, clients: number): Promise<NonNullable<OverloadResult['kill']>> {
  const k = await startKflog(join(dir, 'kflog.json'), config(dir, origin, true), 1);
  const load = startClients(`http://127.0.0.1:${k.ports[0]}`, clients);
  await new Promise((r) => setTimeout(r, after * 1000));
  const killedAt = Date.now();
  k.child.kill('SIGKILL');
  await once(k.child, 'exit');
  await load.stop();
  const before = load.answered.filter((a) => a.at < killedAt - 1000).map((a) => a.path);
  const drops = reportedDrops(join(dir, OWN_LOG));
  const reportedBy = Math.min(killedAt - 1000, drops.lastAt ?? Infinity);
  const beforeReport = load.answered.filter((a) => a.at < reportedBy).map((a) => a.path);
  const missing: Record<string, number> = {};
  const unaccounted: Record<string, number> = {};
  for (const f of FORMATS) {
    const file = join(dir, `${f}.log`);
    missing[f] = missingPaths(file, before);
    // A log's own queue counts kftray's access entry twice (both blocks): as exchanges that is an upper bound.
    unaccounted[f] = Math.max(0, missingPaths(file, beforeReport) - drops.handOver - (drops.perLog[f] ?? 0));
  }
  return { served: load.answered.length, answeredBeforeCutoff: before.length, missing, reportedDrops: drops, answeredBeforeReport: beforeReport.length, unaccounted };
}

export async function runOverloadBench(options: OverloadOptions = {}): Promise<OverloadResult> {
  const seconds = options.seconds ?? 60;
  const clients = options.clients ?? 8;
  const upstream = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-overload-'));
  const killDir = mkdtempSync(join(tmpdir(), 'kflog-bench-kill-'));
  try {
    const r = await overloadRun(dir, upstream.origin, seconds, clients, options);
    const kill = options.kill === false ? undefined : await killRun(killDir, upstream.origin, options.killAfterSeconds ?? 3, clients);
    const checks: OverloadResult['checks'] = [
      { name: 'peak RSS ≤ 400 MB', ok: r.peakRss <= 400 * 1024 * 1024, detail: mb(r.peakRss) },
      { name: 'SIGTERM exits within shutdown deadline + 5 s, status 0', ok: r.exitCode === 0 && r.exitMs <= SHUTDOWN_TIMEOUT_MS + 5000, detail: `${r.exitMs} ms, status ${r.exitCode}` },
      { name: 'exit summary printed', ok: r.summary !== '', detail: r.summary || '(none)' },
    ];
    for (const l of r.logs) {
      // Every served exchange is one access entry; kftray also admits request entries (one more record each).
      const emitted = l.name === 'kftray' ? 2 * r.served : r.served;
      const counted = l.written + l.dropped + l.sampledOut + l.failed;
      checks.push({ name: `${l.name}: keeps advancing (no ${STALL_WINDOW_MS / 1000} s without new lines)`, ok: l.longestStallMs < STALL_WINDOW_MS, detail: `longest stall ${l.longestStallMs} ms` });
      // Clients count what they saw answered; exchanges cut by SIGTERM are logged but not answered, so ≥.
      checks.push({ name: `${l.name}: written+dropped+sampled+failed accounts for every exchange`, ok: counted >= emitted && counted <= emitted + 2 * clients, detail: `${counted} counted, ${emitted} answered` });
      checks.push({ name: `${l.name}: written = records in the file`, ok: l.written === l.inFile, detail: `written=${l.written}, in file ${l.inFile}` });
    }
    if (kill) {
      for (const f of FORMATS) {
        checks.push({
          name: `SIGKILL: ${f} has every exchange answered > 1 s before the kill, but those kflog reported dropped`,
          ok: kill.unaccounted[f] === 0,
          detail: `${kill.missing[f]} of ${kill.answeredBeforeCutoff} missing; drops reported: ${kill.reportedDrops.handOver} at the hand-over, ` +
            `${kill.reportedDrops.perLog[f] ?? 0} in its queue; ${kill.unaccounted[f]} unaccounted of ${kill.answeredBeforeReport} answered before the last report`,
        });
      }
    }
    return { ...r, kill, checks, passed: checks.every((c) => c.ok) };
  } finally {
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(killDir, { recursive: true, force: true });
  }
}

function render(r: OverloadResult): BenchSection {
  const rows = r.logs.map((l) => `| ${l.name} | ${l.written} | ${l.dropped} | ${l.sampledOut} | ${l.failed} | ${l.inFile} | ${l.longestStallMs} |`);
  const markdown = [
    `${r.seconds.toFixed(0)} s, ${r.served} exchanges answered (${(r.served / r.seconds).toFixed(0)}/s), peak RSS ${mb(r.peakRss)}, ` +
      `largest log lag reported ${r.maxLagMs ?? '–'} ms, SIGTERM → exit ${r.exitMs} ms (status ${r.exitCode}).`,
    '',
    '| log | written | dropped | sampled out | failed | records in file | longest stall, ms |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    r.kill
      ? `SIGKILL after load: ${r.kill.served} answered, ${r.kill.answeredBeforeCutoff} of them more than 1 s before the kill; missing per file: ` +
        Object.entries(r.kill.missing).map(([f, n]) => `${f} ${n}`).join(', ') +
        `; drops kflog reported before the kill: ${r.kill.reportedDrops.handOver} at the hand-over, ` +
        (Object.entries(r.kill.reportedDrops.perLog).map(([f, n]) => `${f} ${n}`).join(', ') || 'none in any queue') + '.'
      : '',
    '',
    '| check | result | measured |',
    '|---|---|---|',
    ...r.checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail} |`),
  ].join('\n');
  return { title: 'Overload: five file logs, capture on, 8 clients POSTing 60 KB bodies', markdown };
}

/** `npm run bench` section (BENCH_ONLY=overload); BENCH_OVERLOAD_SECONDS shortens it. */
export async function bench(): Promise<BenchSection> {
  return render(await runOverloadBench({ seconds: Number(process.env.BENCH_OVERLOAD_SECONDS ?? 60) }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await runOverloadBench({
    seconds: numberArg('seconds', 60),
    clients: numberArg('clients', 8),
    killAfterSeconds: numberArg('kill-after', 3),
    kill: !process.argv.includes('--no-kill'),
    trace: process.argv.includes('--trace'),
    nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter((a) => a !== ''),
  });
  process.stdout.write(render(r).markdown + '\n');
  process.exitCode = r.passed ? 0 : 1;
}
