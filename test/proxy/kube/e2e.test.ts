import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../../helpers/cleanup.js';
import type { RawConfig } from '../../../src/config/types.js';
import { parseConfigText } from '../../../src/config/load.js';
import { Kflog } from '../../../src/kflog.js';
import { FakeApiServer } from './fake-apiserver.js';
import { readLines, tempDir } from '../../helpers/files.js';
import { get } from '../../helpers/http.js';
import { waitFor } from '../../helpers/wait.js';
import { startPodServer, type PodServer } from './helpers.js';

const cleanups = undoAfterEach();

async function pod(name: string): Promise<PodServer> {
  const p = await startPodServer(name);
  cleanups.push(() => p.close());
  return p;
}

interface Running {
  kflog: Kflog;
  url: string;
  /** Stop kflog (flushing its logs) and return every JSON line written. */
  stop(): Promise<Array<Record<string, unknown>>>;
}

/** kflog with one forward "users" to `kube`, every entry (debug up) in a JSON file, nothing on stderr. */
async function startKubeKflog(kube: Record<string, unknown>): Promise<Running> {
  const t = tempDir('kube');
  cleanups.push(t.cleanup);
  const logFile = join(t.dir, 'all.log');
  const raw: RawConfig = {
    forwards: [{ id: 'users', listen: '127.0.0.1:0', target: { kube: kube as never }, timeouts: { connect: '5s' } }],
    logging: {
      logs: {
        default: { writer: { output: 'discard' } },
        all: { writer: { output: 'file', filename: logFile }, encoder: { format: 'json' }, level: 'debug' },
      },
    },
  };
  const kflog = await Kflog.start(parseConfigText(JSON.stringify(raw), 'e2e'));
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await kflog.stop(1000);
  });
  return {
    kflog,
    url: `http://${kflog.address('users')}`,
    async stop() {
      stopped = true;
      await kflog.stop(1000);
      return readLines(logFile).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

async function cluster(): Promise<{ api: FakeApiServer; kubeconfig: string }> {
  const api = await new FakeApiServer().listen();
  cleanups.push(() => api.stop());
  const t = tempDir('kube');
  cleanups.push(t.cleanup);
  return { api, kubeconfig: api.writeKubeconfig(join(t.dir, 'config')) };
}

/** A cluster whose service "api" (port "http") is one pod named `name`, and kflog forwarding to it. */
async function kflogToOnePod(name: string): Promise<Running> {
  const { api, kubeconfig } = await cluster();
  const p = await pod(name);
  api.addPod({ name, labels: { app: 'api' }, listeners: { 8080: p.port } });
  api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  return startKubeKflog({ kubeconfig, service: 'api', port: 'http' });
}

describe('kflog with a kube target', () => {
  it('proxies to the pod behind a service and logs the access and the pod chosen', async () => {
    const k = await kflogToOnePod('api-1');
    const res = await get(`${k.url}/api/users`);
    const lines = await k.stop();

    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ pod: 'api-1', url: '/api/users' });
    const access = lines.find((l) => l.logger === 'http.log.access.users');
    expect(access).toMatchObject({ status: 200, termination_state: '----' });
    expect(lines).toContainEqual(expect.objectContaining({ logger: 'kube.portforward.users', msg: 'pod chosen', pod: 'api-1' }));
  });

  it('names the pod that served each exchange in upstream.pod', async () => {
    const k = await kflogToOnePod('api-7');
    await get(`${k.url}/one`);
    await get(`${k.url}/two`);
    const lines = await k.stop();
    const access = lines.filter((l) => l.logger === 'http.log.access.users');
    expect(access).toHaveLength(2);
    for (const e of access) expect((e as { upstream: { pod?: string } }).upstream.pod).toBe('api-7');
  });

  it("names the pod even when another copy of undici (node's own, behind fetch) reported a request first", async () => {
    const k = await kflogToOnePod('api-8');
    // node's bundled undici publishes on the same diagnostics channel, under its own Symbol('handler').
    const viaFetch = await fetch(`${k.url}/by-fetch`);
    await viaFetch.text();
    await get(`${k.url}/by-undici`);
    const lines = await k.stop();
    const access = lines.filter((l) => l.logger === 'http.log.access.users');
    expect(access).toHaveLength(2);
    for (const e of access) expect((e as { upstream: { pod?: string } }).upstream.pod).toBe('api-8');
  });

  it('listens without a cluster, answers 502 SC-- with the reason, and serves once the API server is up', async () => {
    const port = await FakeApiServer.reservePort();
    const api = new FakeApiServer();
    cleanups.push(() => api.stop());
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const t = tempDir('kube');
    cleanups.push(t.cleanup);
    const kubeconfig = api.writeKubeconfig(join(t.dir, 'config'), { server: `http://127.0.0.1:${port}` });
    const k = await startKubeKflog({ kubeconfig, service: 'api', port: 8080 });

    const down = await get(`${k.url}/`);
    await api.listen(port);
    const up = await get(`${k.url}/`);
    const lines = await k.stop();

    expect(down.status).toBe(502);
    expect(up.status).toBe(200);
    const access = lines.filter((l) => l.logger === 'http.log.access.users');
    expect(access[0]).toMatchObject({ status: 502, termination_state: 'SC--' });
    expect(String(access[0]!.error)).toMatch(/kubernetes API http:\/\/127\.0\.0\.1:\d+ unreachable: .*ECONNREFUSED/);
    expect(access[1]).toMatchObject({ status: 200 });
    expect(lines).toContainEqual(expect.objectContaining({ logger: 'kube.portforward.users', msg: 'port-forward restored' }));
  });

  it('answers 502 with the 401 Unauthorized of the API server in the access log', async () => {
    const { api, kubeconfig } = await cluster();
    api.token = 'not-the-one-in-the-kubeconfig';
    const k = await startKubeKflog({ kubeconfig, service: 'api', port: 80 });

    const res = await get(`${k.url}/`);
    const lines = await k.stop();

    expect(res.status).toBe(502);
    const access = lines.find((l) => l.logger === 'http.log.access.users');
    expect(access).toMatchObject({ status: 502, termination_state: 'SC--' });
    expect(String(access!.error)).toContain('401 Unauthorized');
  });

  it('keeps serving through the deletion of its pod, from another ready pod', async () => {
    const { api, kubeconfig } = await cluster();
    const a = await pod('api-a');
    const b = await pod('api-b');
    api.addPod({ name: 'api-a', labels: { app: 'api' }, listeners: { 8080: a.port }, readySince: '2026-01-01T00:00:00Z' });
    api.addPod({ name: 'api-b', labels: { app: 'api' }, listeners: { 8080: b.port }, readySince: '2026-01-01T00:05:00Z' });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] });
    const k = await startKubeKflog({ kubeconfig, service: 'api', port: 80 });

    const before = JSON.parse((await get(`${k.url}/`)).body) as { pod: string };
    api.deletePod('api-a');
    await a.close();
    await waitFor('the streams of the deleted pod to end', () => api.openStreams === 0, 10_000);
    const after = await get(`${k.url}/`);
    const lines = await k.stop();

    expect(before.pod).toBe('api-a');
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body)).toMatchObject({ pod: 'api-b' });
    const kube = lines.filter((l) => l.logger === 'kube.portforward.users').map((l) => l.msg);
    expect(kube).toContain('pod lost');
    expect(kube).toContain('pod replaced');
  });
});
