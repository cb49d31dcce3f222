import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Pool, type buildConnector } from 'undici';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../../helpers/cleanup.js';
import type { KubeTargetConfig } from '../../../src/config/types.js';
import { createKubeUpstream, podOfSocket, type KubeUpstream, type KubeUpstreamOptions } from '../../../src/proxy/kube/upstream.js';
import { FakeApiServer } from './fake-apiserver.js';
import { tempDir } from '../../helpers/files.js';
import { waitFor } from '../../helpers/wait.js';
import { recorder, startPodServer, type PodServer } from './helpers.js';

/** Everything a test started, stopped in reverse order afterwards. */
const cleanups = undoAfterEach();

async function apiserver(tls = false): Promise<FakeApiServer> {
  const api = await new FakeApiServer(tls).listen();
  cleanups.push(() => api.stop());
  return api;
}

async function pod(name: string): Promise<PodServer> {
  const p = await startPodServer(name);
  cleanups.push(() => p.close());
  return p;
}

function kubeconfig(api: FakeApiServer, opts: Parameters<FakeApiServer['writeKubeconfig']>[1] = {}): string {
  const t = tempDir('kube');
  cleanups.push(t.cleanup);
  return api.writeKubeconfig(join(t.dir, 'config'), opts);
}

interface Harness {
  upstream: KubeUpstream;
  pool: Pool;
  events: ReturnType<typeof recorder>['events'];
  /** Sockets the connector handed to undici, in order. */
  sockets: Socket[];
  get(path: string): Promise<{ status: number; pod: string | undefined; body: string }>;
}

function harness(cfg: KubeTargetConfig, opts: KubeUpstreamOptions & { connections?: number } = {}): Harness {
  const rec = recorder();
  const upstream = createKubeUpstream('users', cfg, rec, opts);
  const sockets: Socket[] = [];
  const connect: buildConnector.connector = (o, cb) =>
    upstream.connect(o, (err, socket) => {
      if (socket !== null) sockets.push(socket);
      if (err !== null) cb(err, null);
      else cb(null, socket!);
    });
  const pool = new Pool('http://kube.invalid', { connect, connections: opts.connections ?? 1 });
  cleanups.push(async () => {
    await pool.destroy();
    await upstream.close();
  });
  return {
    upstream,
    pool,
    events: rec.events,
    sockets,
    async get(path) {
      const res = await pool.request({ path, method: 'GET' });
      const body = await res.body.text();
      return { status: res.statusCode, pod: res.headers['x-pod'] as string | undefined, body };
    },
  };
}

describe('kube upstream through an undici Pool', () => {
  it('reaches a service: service port → targetPort on a Running and Ready pod of its selector', async () => {
    const api = await apiserver();
    const a = await pod('api-7d9f-abcde');
    api.addPod({ name: 'api-7d9f-abcde', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addPod({ name: 'other-1', labels: { app: 'other' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 80 });

    const res = await h.get('/api/users?id=1');

    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ pod: 'api-7d9f-abcde', url: '/api/users?id=1' });
    expect(h.upstream.name).toBe('default.api');
    expect(podOfSocket(h.sockets[0]!)).toBe('api-7d9f-abcde');
    expect(api.requests).toContain(
      'WS /api/v1/namespaces/default/pods/api-7d9f-abcde/portforward?ports=8080 (v4.channel.k8s.io,channel.k8s.io)',
    );
    expect(h.events).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'pod chosen', fields: expect.objectContaining({ pod: 'api-7d9f-abcde', port: 8080 }) }),
    );
  });

  it('resolves named ports as kubectl: service port by name → named targetPort → the container port of that name', async () => {
    const api = await apiserver();
    const a = await pod('web-1');
    api.addPod({
      name: 'web-1',
      namespace: 'shop',
      labels: { app: 'web' },
      listeners: { 9090: a.port },
      ports: [{ name: 'metrics', containerPort: 9100 }, { name: 'web', containerPort: 9090 }],
    });
    api.addService({ name: 'web', namespace: 'shop', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }] });
    const h = harness({ kubeconfig: kubeconfig(api), namespace: 'shop', service: 'web', port: 'http' });

    const res = await h.get('/');

    expect(JSON.parse(res.body)).toMatchObject({ pod: 'web-1' });
    expect(api.requests.some((r) => r.startsWith('WS /api/v1/namespaces/shop/pods/web-1/portforward?ports=9090 '))).toBe(true);
    expect(h.upstream.name).toBe('shop.web');
  });

  it('reaches a pod by name, with its container port given by name', async () => {
    const api = await apiserver();
    const a = await pod('db-0');
    api.addPod({ name: 'db-0', listeners: { 5000: a.port }, ports: [{ name: 'api', containerPort: 5000 }] });
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'db-0', port: 'api' });

    const res = await h.get('/x');

    expect(res.pod).toBe('db-0');
    expect(h.upstream.name).toBe('default.db-0');
  });

  it('reaches a label selector, skipping pods that are not Ready', async () => {
    const api = await apiserver();
    const ready = await pod('backend-ready');
    const notReady = await pod('backend-starting');
    api.addPod({ name: 'backend-starting', labels: { app: 'backend', version: 'v2' }, listeners: { 8080: notReady.port }, ready: false, readySince: '2025-01-01T00:00:00Z' });
    api.addPod({ name: 'backend-ready', labels: { app: 'backend', version: 'v2' }, listeners: { 8080: ready.port } });
    api.addPod({ name: 'backend-v1', labels: { app: 'backend', version: 'v1' }, listeners: { 8080: notReady.port } });
    const h = harness({ kubeconfig: kubeconfig(api), selector: 'app=backend,version=v2', port: 8080 });

    const res = await h.get('/');

    expect(res.pod).toBe('backend-ready');
    expect(h.upstream.name).toBe('default.app=backend,version=v2');
  });

  it('uses the namespace of the kubeconfig context when the target names none', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', namespace: 'team-a', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', namespace: 'team-a', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api, { namespace: 'team-a' }), service: 'api', port: 8080 });

    expect(h.upstream.name).toBe('team-a.api');
    expect((await h.get('/')).pod).toBe('api-1');
  });

  it('follows the EndpointSlices of a service without a selector', async () => {
    const api = await apiserver();
    const a = await pod('legacy-2');
    api.addPod({ name: 'legacy-1', listeners: {} });
    api.addPod({ name: 'legacy-2', listeners: { 7070: a.port } });
    api.addService({ name: 'legacy', ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    api.addEndpointSlice({
      name: 'legacy-abc',
      service: 'legacy',
      ports: [{ name: 'http', port: 7070 }],
      endpoints: [
        { pod: 'legacy-1', ready: false },
        { pod: 'legacy-2', ready: true },
      ],
    });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'legacy', port: 80 });

    expect((await h.get('/')).pod).toBe('legacy-2');
    expect(api.requests).toContain(
      '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dlegacy'.replace(/^/, 'GET '),
    );
  });

  it('keeps one port-forward stream alive for many requests on one connection', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 8080 });

    for (let i = 0; i < 25; i++) expect((await h.get(`/n/${i}`)).status).toBe(200);

    expect(api.streamsOpened.get('api-1')).toBe(1);
    expect(a.connections).toBe(1);
    expect(h.sockets).toHaveLength(1);
  });

  it('carries a 1 MiB request and a 4 MiB response intact through the stream', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 });

    const up = await h.pool.request({ path: '/upload', method: 'POST', body: Buffer.alloc(1024 * 1024, 'u') });
    expect(JSON.parse(await up.body.text())).toMatchObject({ bytes: 1024 * 1024 });
    const down = await h.pool.request({ path: `/bytes/${4 * 1024 * 1024}`, method: 'GET' });
    const body = Buffer.from(await down.body.arrayBuffer());
    expect(body.length).toBe(4 * 1024 * 1024);
    expect(body.every((b) => b === 0x6b)).toBe(true);
  });

  it('moves to another ready pod when its pod is deleted, and says so', async () => {
    const api = await apiserver();
    const a = await pod('api-a');
    const b = await pod('api-b');
    api.addPod({ name: 'api-a', labels: { app: 'api' }, listeners: { 8080: a.port }, readySince: '2026-01-01T00:00:00Z' });
    api.addPod({ name: 'api-b', labels: { app: 'api' }, listeners: { 8080: b.port }, readySince: '2026-01-01T00:05:00Z' });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 80 }, { resolveTtlMs: 60_000 });

    for (let i = 0; i < 3; i++) expect((await h.get('/')).pod).toBe('api-a');
    api.deletePod('api-a');
    await a.close();
    await waitFor('the stream of the deleted pod to close', () => h.pool.stats.connected === 0, 10_000);

    // The cached choice is still api-a (long TTL): the stream fails to open, the pod is lost, api-b replaces it.
    for (let i = 0; i < 3; i++) expect((await h.get('/')).pod).toBe('api-b');
    expect(h.events).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'pod lost', fields: expect.objectContaining({ pod: 'api-a', reason: expect.stringContaining('pods "api-a" not found') }) }),
    );
    expect(h.events).toContainEqual(
      expect.objectContaining({ level: 'info', msg: 'pod replaced', fields: expect.objectContaining({ from: 'api-a', to: 'api-b' }) }),
    );
  });

  it('keeps concurrent traffic flowing through a pod deletion, losing at most the exchanges in flight', async () => {
    const api = await apiserver();
    const a = await pod('api-a');
    const b = await pod('api-b');
    api.addPod({ name: 'api-a', labels: { app: 'api' }, listeners: { 8080: a.port }, readySince: '2026-01-01T00:00:00Z' });
    api.addPod({ name: 'api-b', labels: { app: 'api' }, listeners: { 8080: b.port }, readySince: '2026-01-01T00:05:00Z' });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const workers = 4;
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 8080 }, { connections: workers });
    const served = { 'api-a': 0, 'api-b': 0 } as Record<string, number>;
    let failures = 0;
    let deleted = false;
    const deadline = Date.now() + 20_000;
    const worker = async (): Promise<void> => {
      while (served['api-b']! < 40 && Date.now() < deadline) {
        try {
          const res = await h.get('/');
          served[res.pod!] = (served[res.pod!] ?? 0) + 1;
        } catch {
          failures++;
        }
        if (!deleted && served['api-a']! >= 40) {
          deleted = true;
          api.deletePod('api-a');
          void a.close();
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, () => worker()));

    expect(deleted).toBe(true);
    expect(served['api-b']).toBeGreaterThanOrEqual(40);
    expect(failures).toBeLessThanOrEqual(workers); // one in-flight exchange per connection at most
    expect(h.events.filter((e) => e.msg === 'pod replaced')).toHaveLength(1);
    expect(h.events.filter((e) => e.msg === 'pod lost')).toHaveLength(1);
  });

  it('notices a pod that stopped being Ready at the next resolution and replaces it', async () => {
    const api = await apiserver();
    const a = await pod('api-a');
    const b = await pod('api-b');
    api.addPod({ name: 'api-a', labels: { app: 'api' }, listeners: { 8080: a.port }, readySince: '2026-01-01T00:00:00Z' });
    api.addPod({ name: 'api-b', labels: { app: 'api' }, listeners: { 8080: b.port }, readySince: '2026-01-01T00:05:00Z' });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 8080 }, { resolveTtlMs: 0 });

    expect((await h.get('/')).pod).toBe('api-a');
    api.setReady('api-a', false);
    h.sockets[0]!.destroy(); // the next request needs a new connection, hence a new resolution
    await waitFor('the connection to close', () => h.pool.stats.connected === 0, 10_000);

    expect((await h.get('/')).pod).toBe('api-b');
    expect(h.events).toContainEqual(
      expect.objectContaining({ msg: 'pod lost', fields: expect.objectContaining({ pod: 'api-a', reason: 'no longer Running and Ready' }) }),
    );
    expect(h.events).toContainEqual(expect.objectContaining({ msg: 'pod replaced', fields: expect.objectContaining({ from: 'api-a', to: 'api-b' }) }));
  });

  it('tries another ready pod of the service when the first refuses the stream', async () => {
    const api = await apiserver();
    const b = await pod('api-b');
    api.addPod({ name: 'api-a', labels: { app: 'api' }, listeners: {}, readySince: '2026-01-01T00:00:00Z' });
    api.addPod({ name: 'api-b', labels: { app: 'api' }, listeners: { 8080: b.port }, readySince: '2026-01-01T00:05:00Z' });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 8080 });

    expect((await h.get('/')).pod).toBe('api-b');
    expect(h.events).toContainEqual(
      expect.objectContaining({ msg: 'pod lost', fields: expect.objectContaining({ pod: 'api-a', reason: expect.stringContaining('connection refused') }) }),
    );
  });

  it('starts without a cluster, fails connections with the reason, and works once the API server is up', async () => {
    const port = await FakeApiServer.reservePort();
    const api = new FakeApiServer();
    cleanups.push(() => api.stop());
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const cfg = kubeconfig(api, { server: `http://127.0.0.1:${port}` });

    const h = harness({ kubeconfig: cfg, service: 'api', port: 8080 });
    const down = await h.get('/').catch((e: Error) => e);
    expect(down).toBeInstanceOf(Error);
    expect((down as Error).message).toMatch(new RegExp(`kubernetes API http://127\\.0\\.0\\.1:${port} unreachable: .*ECONNREFUSED`));

    await api.listen(port);
    expect((await h.get('/')).pod).toBe('api-1');
    const msgs = h.events.map((e) => e.msg);
    expect(msgs.indexOf('port-forward failed')).toBeLessThan(msgs.indexOf('port-forward restored'));
  });

  it('reports 401 Unauthorized from the API server as the reason of the failed connection', async () => {
    const api = await apiserver();
    api.token = 'right-token';
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', labels: { app: 'api' }, listeners: { 8080: a.port } });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api, { token: 'expired-token' }), service: 'api', port: 8080 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error & { reason?: string; code?: string };

    expect(err.message).toContain('401 Unauthorized');
    expect(err.message).toContain('get service default/api');
    expect(err.reason).toBe('Unauthorized');
    expect(err.code).toBe('KUBE_PORTFORWARD');
    expect(h.events).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'port-forward failed' }));
  });

  it('reports a 401 on the port-forward upgrade itself with the Status of the API server', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 });
    expect((await h.get('/')).pod).toBe('api-1');

    api.token = 'rotated';
    h.sockets[0]!.destroy();
    await waitFor('the connection to close', () => h.pool.stats.connected === 0, 10_000);
    const err = (await h.get('/').catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/refused to (get pod|open a port-forward stream to pod) default\/api-1.*: 401 Unauthorized/);
  });

  it('reports 403 Forbidden on pods/portforward with the API server message', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    api.forbidden.add('create pods/portforward');
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error;

    expect(err.message).toContain('403 Forbidden');
    expect(err.message).toContain('cannot create resource "pods" with subresource "portforward"');
  });

  it('reports a service that does not exist as NotFound', async () => {
    const api = await apiserver();
    const h = harness({ kubeconfig: kubeconfig(api), service: 'nope', port: 80 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error;

    expect(err.message).toContain('404 NotFound: services "nope" not found');
  });

  it('reports a service whose pods are not ready, naming their states', async () => {
    const api = await apiserver();
    api.addPod({ name: 'api-1', labels: { app: 'api' }, listeners: {}, ready: false });
    api.addPod({ name: 'api-2', labels: { app: 'api' }, listeners: {}, phase: 'Pending', ready: false });
    api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ port: 8080 }] });
    const h = harness({ kubeconfig: kubeconfig(api), service: 'api', port: 8080 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error;

    expect(err.message).toBe('service default/api: no Running and Ready pod (api-1 Running, not Ready; api-2 Pending)');
  });

  it('fails the exchange with kubelet\'s message when nothing listens on the container port', async () => {
    const api = await apiserver();
    api.addPod({ name: 'api-1', listeners: {} });
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'api-1', port: 8081 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error;

    expect(err.message).toContain('port-forward to pod default/api-1:8081: an error occurred forwarding 8081 -> 8081');
    expect(err.message).toContain('connection refused');
  });

  it('talks TLS to an API server whose CA is in the kubeconfig, with a bearer token', async () => {
    const api = await apiserver(true);
    api.token = 'sekret';
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    const h = harness({ kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 });

    expect((await h.get('/')).pod).toBe('api-1');
    expect(api.url.startsWith('https://')).toBe(true);
  });

  it('reports a kubeconfig context that does not exist without throwing at creation', async () => {
    const api = await apiserver();
    const h = harness({ kubeconfig: kubeconfig(api), context: 'prod', service: 'api', port: 80 });

    const err = (await h.get('/').catch((e: Error) => e)) as Error;

    expect(err.message).toMatch(/has no context "prod" \(contexts: fake\)/);
  });

  it('closes its open streams on close() and refuses new connections', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    const rec = recorder();
    const upstream = createKubeUpstream('users', { kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 }, rec);
    const socket = await new Promise<Socket>((resolve, reject) =>
      upstream.connect({ hostname: 'x', protocol: 'http:', port: '80' }, (err, s) => (err ? reject(err) : resolve(s!))),
    );
    await waitFor('the stream to open', () => api.openStreams === 1, 10_000);

    await upstream.close();

    expect(socket.destroyed).toBe(true);
    await waitFor('the API server to see the stream closed', () => api.openStreams === 0, 10_000);
    const err = await new Promise<Error | null>((resolve) => upstream.connect({ hostname: 'x', protocol: 'http:', port: '80' }, (e: Error | null, _s: unknown) => resolve(e)));
    expect(err?.message).toContain('closed');
  });

  it('ends the socket when the pod closes the connection', async () => {
    const api = await apiserver();
    const a = await pod('api-1');
    api.addPod({ name: 'api-1', listeners: { 8080: a.port } });
    const upstream = createKubeUpstream('users', { kubeconfig: kubeconfig(api), pod: 'api-1', port: 8080 }, recorder());
    cleanups.push(() => upstream.close());
    const socket = await new Promise<Socket>((resolve, reject) =>
      upstream.connect({ hostname: 'x', protocol: 'http:', port: '80' }, (err, s) => (err ? reject(err) : resolve(s!))),
    );
    const ended = new Promise<string>((resolve) => {
      socket.on('data', () => undefined);
      socket.on('end', () => resolve('end'));
      socket.on('error', (e) => resolve(`error ${e.message}`));
    });
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');

    expect(await ended).toBe('end');
    await waitFor('the socket to close', () => socket.destroyed, 10_000);
  });
});
