/**
 * What the admin listener costs the proxy: kflog with one json file log, with `"admin": false`, with the admin
 * listener on and nobody looking, and with it scraped every second and one /api/stream client reading (what a
 * Prometheus and an open viewer do). Interleaved rounds, so drift on a shared machine hits each alike.
 *
 *   npm run build && node dist/bench/admin.js        (BENCH_SECONDS, BENCH_ROUNDS: default 5 s × 3 rounds)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, cpuMicros, fmt, freePort, median, ROOT, runLoad, startProcess, table, waitHttp, type Proc } from './lib.js';
import type { BenchSection } from './run.js';

type Variant = 'off' | 'on' | 'watched';

const LABELS: Record<Variant, string> = {
  off: '"admin": false',
  on: 'admin on, nobody looking',
  watched: 'admin on, /metrics scraped every 1 s + one /api/stream client',
};

interface Contestant {
  variant: Variant;
  url: string;
  admin?: string;
  proc: Proc;
}

async function startKflog(variant: Variant, upstream: number, dir: string): Promise<Contestant> {
  const port = await freePort();
  const adminPort = await freePort();
  const cfg = join(dir, `${variant}.json`);
  writeFileSync(cfg, JSON.stringify({
    forwards: [{ id: 'bench', listen: `127.0.0.1:${port}`, target: { url: `http://127.0.0.1:${upstream}` } }],
    admin: variant === 'off' ? false : { listen: `127.0.0.1:${adminPort}` },
    logging: {
      logs: {
        default: { exclude: ['http.log'] },
        json: { include: ['http.log.access'], writer: { output: 'file', filename: join(dir, `${variant}.json.log`) }, encoder: { format: 'json' } },
      },
    },
  }));
  const proc = startProcess(process.execPath, [CLI, 'run', '--config', cfg], { cwd: dir });
  const url = `http://127.0.0.1:${port}/api/users`;
  await waitHttp(url);
  return { variant, url, proc, ...(variant === 'off' ? {} : { admin: `http://127.0.0.1:${adminPort}` }) };
}

/**
 * A round's watcher, in a process of its own (runLoad blocks the bench's): one /api/stream client reading, and a
 * scrape of /metrics every second, as Prometheus with a 1 s interval. Runs until the bench stops it.
 */
function watchForever(admin: string): void {
  const stream: ClientRequest = request(`${admin}/api/stream`, (res) => res.resume());
  stream.on('error', () => undefined);
  stream.end();
  setInterval(() => {
    request(`${admin}/metrics`, (res) => res.resume()).on('error', () => undefined).end();
  }, 1000);
}

export interface AdminBenchResult {
  rows: Array<{ variant: Variant; rps: number; p99ms: number; cpuUsPerReq: number }>;
  markdown: string;
}

export async function runAdminBench(seconds = Number(process.env.BENCH_SECONDS ?? 5), rounds = Number(process.env.BENCH_ROUNDS ?? 3)): Promise<AdminBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-admin-'));
  const upstreamPort = await freePort();
  const upstream = startProcess(process.execPath, [join(ROOT, 'dist/bench/upstream.js'), String(upstreamPort)]);
  const contestants: Contestant[] = [];
  try {
    await waitHttp(`http://127.0.0.1:${upstreamPort}/`);
    for (const v of ['off', 'on', 'watched'] as const) contestants.push(await startKflog(v, upstreamPort, dir));
    const samples = new Map<Variant, Array<{ rps: number; p99ms: number; cpuUsPerReq: number }>>();
    for (let r = 0; r < rounds; r++) {
      for (const c of contestants) {
        const cpu0 = cpuMicros(c.proc.child.pid!);
        const load = c.variant === 'watched' ? await watchedLoad(c, seconds) : runLoad(c.url, seconds, 50);
        const cpu = cpuMicros(c.proc.child.pid!) - cpu0;
        const list = samples.get(c.variant) ?? [];
        list.push({ rps: load.rps, p99ms: load.p99ms, cpuUsPerReq: cpu / load.requests });
        samples.set(c.variant, list);
      }
    }
    const rows = contestants.map((c) => {
      const s = samples.get(c.variant)!;
      return { variant: c.variant, rps: median(s.map((x) => x.rps)), p99ms: median(s.map((x) => x.p99ms)), cpuUsPerReq: median(s.map((x) => x.cpuUsPerReq)) };
    });
    const base = rows[0]!.rps;
    const markdown = table(
      ['kflog (one json file log)', 'req/s', 'vs off', 'p99 ms', 'CPU µs/req'],
      rows.map((r) => [LABELS[r.variant], fmt(r.rps), `${((r.rps / base) * 100).toFixed(0)}%`, fmt(r.p99ms), fmt(r.cpuUsPerReq)]),
    ) + `\n\n- ${rounds} interleaved rounds of ${seconds} s, 50 connections, medians; the machine is shared, so the figures are indicative.`;
    return { rows, markdown };
  } finally {
    await Promise.all(contestants.map((c) => c.proc.stop()));
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load of one round while a child process scrapes and reads the stream (runLoad blocks this one). */
async function watchedLoad(c: Contestant, seconds: number): Promise<ReturnType<typeof runLoad>> {
  const watcher = startProcess(process.execPath, [join(ROOT, 'dist/bench/admin.js'), '--watch', c.admin!]);
  try {
    return runLoad(c.url, seconds, 50);
  } finally {
    await watcher.stop();
  }
}

/** `npm run bench` section (BENCH_ONLY=admin). */
export async function bench(): Promise<BenchSection> {
  const r = await runAdminBench();
  return { title: 'Admin listener: proxy cost with it off, on, and watched', markdown: r.markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--watch');
  if (at >= 0) {
    watchForever(process.argv[at + 1]!);
  } else {
    console.log((await runAdminBench()).markdown);
  }
}
