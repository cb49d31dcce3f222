import { request, type IncomingHttpHeaders } from 'node:http';
import type { UndoList } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';

export interface AdminKflog {
  proc: KflogProcess;
  /** http://127.0.0.1:<port> of the admin listener, as `kflog run` printed it. */
  admin: string;
  /** host:port of each forward. */
  addresses: Record<string, string>;
  dir: string;
}

/** The admin URL from `kflog run`'s start lines. */
export function adminUrlIn(stderr: string): string | undefined {
  return /^kflog: admin: (http:\/\/\S+)\/metrics /m.exec(stderr)?.[1];
}

/**
 * `kflog run` with an admin listener on a free loopback port (unless `config.admin` says otherwise) and the given
 * forwards (default: one, "demo", to the builtin API), stopped after the test.
 */
export async function startAdminKflog(undo: UndoList, config: Record<string, unknown> = {}): Promise<AdminKflog> {
  const { dir, cleanup } = tempDir('admin');
  undo.push(cleanup);
  const full = {
    forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
    admin: { listen: '127.0.0.1:0' },
    ...config,
  } as Parameters<typeof startKflog>[0];
  const { proc, addresses } = await startKflog(full, dir);
  undo.push(() => proc.stop());
  const admin = adminUrlIn(proc.stderr);
  if (admin === undefined) throw new Error(`no admin line in kflog's start:\n${proc.stderr}`);
  return { proc, admin, addresses, dir };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (node sets Host from the URL unless one is given), its body read whole. */
export function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A sample of the Prometheus text format: `name{label="v",…} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values unescaped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function metric(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}
