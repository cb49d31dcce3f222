/**
 * Throughput of a Kubernetes target (one port-forward stream per upstream connection) against the same upstream as
 * a plain `url` target, at two levels: an undici Pool using the kube connector directly, and through kflog.
 *
 * The "cluster" (fake API server relaying v4.channel.k8s.io streams, and the pod's HTTP server) runs in a child
 * process, so the relay work a real API server and kubelet would do elsewhere is not charged to kflog's process.
 * Run alone: `npm run build && node dist/bench/kube.js [seconds] [connections]`.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { parseConfigText } from '../src/config/load.js';
import type { RawConfig } from '../src/config/types.js';
import { Kflog } from '../src/kflog.js';
import { createKubeUpstream } from '../src/proxy/kube/upstream.js';
import { FakeApiServer } from '../test/proxy/kube/fake-apiserver.js';
import { table } from './lib.js';
import type { BenchSection } from './run.js';
import { startPodServer } from '../test/proxy/kube/helpers.js';

export interface KubeBenchOptions {
  /** Measured time per row (after a warm-up of a fifth of it). Default 3 s. */
  durationMs?: number;
  /** Concurrent requests (and upstream connections). Default 16. */
  connections?: number;
  /** Response sizes to measure. Default [small JSON (~80 B), 64 KiB]. */
  paths?: string[];
}

export interface KubeBenchRow {
  level: 'pool' | 'kflog';
  target: 'url' | 'kube';
  path: string;
  requests: number;
  rps: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of this process (client + kflog or connector, not the cluster) per request, in µs. */
  cpuUsPerReq: number;
  errors: number;
}

interface ClusterInfo {
  podPort: number;
  apiUrl: string;
}

/** Child process: the pod and the API server relaying to it. */
async function serveCluster(): Promise<void> {
  const pod = await startPodServer('bench-pod');
  const api = await new FakeApiServer().listen();
  api.addPod({ name: 'bench-pod', labels: { app: 'bench' }, listeners: { 8080: pod.port } });
  api.addService({ name: 'bench', selector: { app: 'bench' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  const info: ClusterInfo = { podPort: pod.port, apiUrl: api.url };
  process.send?.(info);
  process.on('disconnect', () => process.exit(0));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function measure(pool: Pool, path: string, durationMs: number, connections: number): Promise<Omit<KubeBenchRow, 'level' | 'target'>> {
  let measuring = false;
  let stop = false;
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ path, method: 'GET' });
        let n = 0;
        for await (const chunk of res.body) n += (chunk as Buffer).length;
        if (measuring) {
          requests++;
          bytes += n;
          latencies.push(performance.now() - t0);
        }
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const workers = Array.from({ length: connections }, () => worker());
  await new Promise((r) => setTimeout(r, Math.max(200, durationMs / 5))); // warm-up: connections opened, JIT warm
  measuring = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  latencies.sort((a, b) => a - b);
  return {
    path,
    requests,
    rps: Math.round(requests / elapsed),
    mbPerSec: Math.round((bytes / elapsed / 1e6) * 10) / 10,
    p50Ms: Math.round(percentile(latencies, 50) * 100) / 100,
    p99Ms: Math.round(percentile(latencies, 99) * 100) / 100,
    cpuUsPerReq: requests > 0 ? Math.round((cpu.user + cpu.system) / requests) : 0,
    errors,
  };
}

export async function benchKube(opts: KubeBenchOptions = {}): Promise<KubeBenchRow[]> {
  const durationMs = opts.durationMs ?? 3000;
  const connections = opts.connections ?? 16;
  const paths = opts.paths ?? ['/api/users', '/bytes/65536'];
  const child = fork(fileURLToPath(import.meta.url), ['--serve-cluster'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const dir = mkdtempSync(join(tmpdir(), 'kflog-bench-kube-'));
  const rows: KubeBenchRow[] = [];
  try {
    const [info] = (await once(child, 'message')) as [ClusterInfo];
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: ${info.apiUrl}\n    insecure-skip-tls-verify: true\n` +
        'users:\n- name: bench\n  user: {}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\ncurrent-context: bench\n',
    );
    const kube = { kubeconfig, service: 'bench', port: 80 };

    // Level 1: undici Pool, direct vs through the connector.
    for (const path of paths) {
      const direct = new Pool(`http://127.0.0.1:${info.podPort}`, { connections });
      rows.push({ level: 'pool', target: 'url', ...(await measure(direct, path, durationMs, connections)) });
      await direct.close();
      const upstream = createKubeUpstream('bench', kube, { emit: () => undefined });
      const viaKube = new Pool('http://kube.invalid', { connections, connect: upstream.connect });
      rows.push({ level: 'pool', target: 'kube', ...(await measure(viaKube, path, durationMs, connections)) });
      await viaKube.close();
      await upstream.close();
    }

    // Level 2: through kflog, a url forward and a kube forward to the same pod.
    const raw: RawConfig = {
      forwards: [
        { id: 'plain', listen: '127.0.0.1:0', target: { url: `http://127.0.0.1:${info.podPort}` } },
        { id: 'kube', listen: '127.0.0.1:0', target: { kube } },
      ],
      logging: { logs: { default: { writer: { output: 'discard' } } } },
    };
    const kflog = await Kflog.start(parseConfigText(JSON.stringify(raw), 'bench'));
    try {
      for (const path of paths) {
        for (const target of ['url', 'kube'] as const) {
          const pool = new Pool(`http://${kflog.address(target === 'url' ? 'plain' : 'kube')}`, { connections });
          rows.push({ level: 'kflog', target, ...(await measure(pool, path, durationMs, connections)) });
          await pool.close();
        }
      }
    } finally {
      await kflog.stop(1000);
    }
  } finally {
    child.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatKubeBench(rows: KubeBenchRow[]): string {
  const head = 'level  target  path            req/s     MB/s   p50 ms  p99 ms  cpu µs/req  errors';
  const lines = rows.map(
    (r) =>
      `${r.level.padEnd(6)} ${r.target.padEnd(7)} ${r.path.padEnd(14)} ${String(r.rps).padStart(7)} ${String(r.mbPerSec).padStart(8)} ` +
      `${String(r.p50Ms).padStart(8)} ${String(r.p99Ms).padStart(7)} ${String(r.cpuUsPerReq).padStart(11)} ${String(r.errors).padStart(7)}`,
  );
  return [head, ...lines, '', ...ratios(rows)].join('\n');
}

/** Ratio lines: the kube row's req/s as a share of the url row's, per level and path. */
function ratios(rows: KubeBenchRow[]): string[] {
  const out: string[] = [];
  for (const level of ['pool', 'kflog'] as const) {
    for (const path of new Set(rows.map((r) => r.path))) {
      const url = rows.find((r) => r.level === level && r.target === 'url' && r.path === path);
      const kube = rows.find((r) => r.level === level && r.target === 'kube' && r.path === path);
      if (url && kube && url.rps > 0) out.push(`${level} ${path}: kube = ${Math.round((kube.rps / url.rps) * 100)}% of url`);
    }
  }
  return out;
}

/** The section of `npm run bench` (bench/run.ts); BENCH_SECONDS sets the measured time per row. */
export async function bench(): Promise<BenchSection> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const rows = await benchKube({ durationMs: seconds * 1000 });
  return {
    title: 'Kubernetes target: port-forward stream per connection vs the same upstream as a url target (16 concurrent)',
    markdown: table(
      ['level', 'target', 'path', 'req/s', 'MB/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'errors'],
      rows.map((r) => [r.level, r.target, r.path, r.rps, r.mbPerSec, r.p50Ms, r.p99Ms, r.cpuUsPerReq, r.errors]),
    ),
    notes: [
      ...ratios(rows),
      'pool: an undici Pool straight to the pod vs through the kube connector; kflog: a url forward vs a kube forward.',
      'The fake API server relaying the v4.channel.k8s.io streams and the pod run in a child process; CPU µs/req is the measuring process only (client + kflog/connector).',
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--serve-cluster') {
    await serveCluster();
  } else {
    const seconds = Number(process.argv[2] ?? 3);
    const connections = Number(process.argv[3] ?? 16);
    const rows = await benchKube({ durationMs: seconds * 1000, connections });
    process.stdout.write(formatKubeBench(rows) + '\n');
  }
}
