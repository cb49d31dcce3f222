import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { waitFor } from '../helpers/wait.js';
import { program } from '../encoders/corpus.js';
import { startAdminKflog } from './helpers.js';

const undo = undoAfterEach();

/** A loopback port free a moment ago: bound on port 0 and released, for a program that takes a fixed port. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The one value of an instant query through Prometheus' HTTP API, undefined while it has none. */
async function query(prometheus: string, promql: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    const value = body.data?.result?.[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined; // not up yet
  }
}

describe('a real Prometheus scraping kflog', () => {
  it('finds kflog_requests_total equal to the requests sent', { timeout: 90_000 }, async (ctx) => {
    if (!program('prometheus')) ctx.skip();
    const k = await startAdminKflog(undo);
    const target = new URL(k.admin).host;
    const port = await freePort();
    const config = join(k.dir, 'prometheus.yml');
    writeFileSync(config, [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: kflog',
      `    static_configs: [{ targets: ['${target}'] }]`,
      '',
    ].join('\n'));
    const prom = spawn('prometheus', [
      `--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(k.dir, 'tsdb')}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    prom.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
    const exited = once(prom, 'exit');
    undo.push(async () => {
      if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGKILL');
    });

    const sent = 25;
    for (let i = 0; i < sent; i++) {
      const res = await fetch(`http://${k.addresses.demo!}/api/users`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const prometheus = `http://127.0.0.1:${port}`;
    let seen: number | undefined;
    await waitFor(
      () => `sum(kflog_requests_total) = ${sent} in Prometheus (last answer: ${seen}); its log:\n${log}`,
      async () => (seen = await query(prometheus, 'sum(kflog_requests_total)')) === sent,
      60_000, 250,
    );
    // The scrape itself is healthy, and what it stored is kflog's whole view: per method and status class too.
    expect(await query(prometheus, 'up{job="kflog"}')).toBe(1);
    expect(await query(prometheus, 'sum(kflog_requests_total{forward="demo",method="GET",status_class="2xx"})')).toBe(sent);
  });
});
