/**
 * What the admin listener costs the proxy: kflog with one json file log, with `"admin": false`, with the admin
 * listener on and nobody looking, with it scraped every second and one /api/stream client reading (what a
 * Prometheus and an open viewer ask of it), and with the viewer itself open in Chromium (the page reading the
 * stream and drawing every row, on the same two cores as the proxy: what a user watching live traffic costs).
 * Interleaved rounds, so drift on a shared machine hits each alike.
 *
 *   npm run build && node dist/bench/admin.js        (BENCH_SECONDS, BENCH_ROUNDS: default 5 s × 3 rounds;
 *                                                     CHROMIUM_PATH: default /usr/bin/chromium)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, cpuMicros, fmt, freePort, median, ROOT, runLoad, startProcess, table, waitHttp, type Proc } from './lib.js';
import type { BenchSection } from './run.js';

type Variant = 'off' | 'on' | 'watched' | 'browser';

const LABELS: Record<Variant, string> = {
  off: '"admin": false',
  on: 'admin on, nobody looking',
  watched: 'admin on, /metrics scraped every 1 s + one /api/stream client',
  browser: 'admin on, /metrics scraped every 1 s + the viewer open in Chromium',
};

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Launching Chromium and loading the page, before a round's load starts. */
const BROWSER_READY_MS = 30_000;

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
  scrapeEverySecond(admin);
}

function scrapeEverySecond(admin: string): void {
  setInterval(() => {
    request(`${admin}/metrics`, (res) => res.resume()).on('error', () => undefined).end();
  }, 1000);
}

/**
 * A round's browser: the viewer in headless Chromium at 1280×720, its live feed connected, then "viewer open" on
 * stdout; closed on SIGTERM (the bench's stop), so no Chromium outlives the round.
 */
async function browseForever(admin: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: BROWSER_READY_MS });
  process.once('SIGTERM', () => void browser.close().finally(() => process.exit(0)));
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${admin}/`, { timeout: BROWSER_READY_MS });
  await page.locator('[data-connected="true"]').waitFor({ timeout: BROWSER_READY_MS });
  scrapeEverySecond(admin);
  process.stdout.write('viewer open\n');
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
    const variants: Variant[] = existsSync(CHROMIUM) ? ['off', 'on', 'watched', 'browser'] : ['off', 'on', 'watched'];
    for (const v of variants) contestants.push(await startKflog(v, upstreamPort, dir));
    const samples = new Map<Variant, Array<{ rps: number; p99ms: number; cpuUsPerReq: number }>>();
    for (let r = 0; r < rounds; r++) {
      for (const c of contestants) {
        const cpu0 = cpuMicros(c.proc.child.pid!);
        const load = c.variant === 'watched' || c.variant === 'browser' ? await watchedLoad(c, seconds) : runLoad(c.url, seconds, 50);
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
    ) + `\n\n- ${rounds} interleaved rounds of ${seconds} s, 50 connections, medians; the machine is shared, so the figures are indicative.` +
      (variants.includes('browser')
        ? '\n- The viewer row counts only kflog\'s CPU; Chromium drawing the rows runs on the same two cores, which is part of what the rate loses.'
        : `\n- No Chromium at ${CHROMIUM} (CHROMIUM_PATH): the row with the viewer open in a browser is absent.`);
    return { rows, markdown };
  } finally {
    await Promise.all(contestants.map((c) => c.proc.stop()));
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The load of one round while a child process scrapes and reads the stream (runLoad blocks this one). */
async function watchedLoad(c: Contestant, seconds: number): Promise<ReturnType<typeof runLoad>> {
  const browser = c.variant === 'browser';
  const watcher = startProcess(process.execPath, [join(ROOT, 'dist/bench/admin.js'), browser ? '--browser' : '--watch', c.admin!]);
  try {
    if (browser) await viewerOpen(watcher);
    return runLoad(c.url, seconds, 50);
  } finally {
    await watcher.stop();
  }
}

/** Until the browser watcher says the page is live; its output when it dies or takes too long. */
async function viewerOpen(watcher: Proc): Promise<void> {
  const deadline = Date.now() + BROWSER_READY_MS;
  while (!watcher.output().includes('viewer open')) {
    if (watcher.child.exitCode !== null || Date.now() > deadline) throw new Error(`the viewer did not open in Chromium: ${watcher.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm run bench` section (BENCH_ONLY=admin). */
export async function bench(): Promise<BenchSection> {
  const r = await runAdminBench();
  return { title: 'Admin listener: proxy cost with it off, on, watched, and with the viewer open', markdown: r.markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--watch');
  const browse = process.argv.indexOf('--browser');
  if (at >= 0) {
    watchForever(process.argv[at + 1]!);
  } else if (browse >= 0) {
    await browseForever(process.argv[browse + 1]!);
  } else {
    console.log((await runAdminBench()).markdown);
  }
}
