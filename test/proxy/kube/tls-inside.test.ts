import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../src/config/types.js';
import { parseConfigText } from '../../../src/config/load.js';
import { Kflog } from '../../../src/kflog.js';
import { undoAfterEach } from '../../helpers/cleanup.js';
import { readLines, tempDir } from '../../helpers/files.js';
import { get } from '../../helpers/http.js';
import { makeTestPki, signedLeaf, type TestPki } from '../../helpers/pki.js';
import { FakeApiServer } from './fake-apiserver.js';
import { startPodServer } from './helpers.js';

/**
 * A pod that serves HTTPS behind a Kubernetes target: kflog speaks TLS inside the port-forward stream, checking
 * the pod's certificate against the service's cluster DNS name (or `server_name`), as a client in the cluster would.
 */
const cleanups = undoAfterEach();

let pki: TestPki;
/** The pod's certificate, for the name clients in the cluster use: api.default.svc. */
let serviceLeaf: { cert: string; key: string };
/** A certificate for another service's name. */
let otherLeaf: { cert: string; key: string };

beforeAll(() => {
  const t = tempDir('kube-tls');
  pki = makeTestPki(t.dir);
  serviceLeaf = signedLeaf(pki, 'api-svc', 'DNS:api.default.svc,DNS:api.default.svc.cluster.local');
  otherLeaf = signedLeaf(pki, 'other-svc', 'DNS:billing.default.svc');
  return t.cleanup;
});

interface Running {
  url: string;
  /** Stop kflog (flushing its logs) and return its access entries. */
  stop(): Promise<Array<Record<string, unknown>>>;
}

/** A cluster with service "api" over one HTTPS pod serving `leaf`, and kflog forwarding to it with `tls`. */
async function kflogToHttpsPod(
  leaf: { cert: string; key: string } | { silentPort: number },
  tls: Record<string, unknown>,
  target: Record<string, unknown> = { service: 'api', port: 'https' },
  connect = '5s',
): Promise<Running> {
  const api = await new FakeApiServer().listen();
  cleanups.push(() => api.stop());
  const t = tempDir('kube-tls');
  cleanups.push(t.cleanup);
  let port: number;
  if ('silentPort' in leaf) {
    port = leaf.silentPort;
  } else {
    const pod = await startPodServer('api-0', leaf);
    cleanups.push(() => pod.close());
    port = pod.port;
  }
  api.addPod({ name: 'api-0', labels: { app: 'api' }, listeners: { 8443: port } });
  api.addService({ name: 'api', selector: { app: 'api' }, ports: [{ name: 'https', port: 443, targetPort: 8443 }] });
  const logFile = join(t.dir, 'access.log');
  const raw: RawConfig = {
    forwards: [{
      id: 'api', listen: '127.0.0.1:0', target: { kube: { kubeconfig: api.writeKubeconfig(join(t.dir, 'config')), ...target } as never },
      tls: tls as never, timeouts: { connect },
    }],
    logging: {
      logs: {
        default: { writer: { output: 'discard' } },
        access: { include: ['http.log.access'], writer: { output: 'file', filename: logFile }, encoder: { format: 'json' } },
      },
    },
  };
  const kflog = await Kflog.start(parseConfigText(JSON.stringify(raw), 'kube-tls'));
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await kflog.stop(1000);
  });
  return {
    url: `http://${kflog.address('api')}`,
    async stop() {
      stopped = true;
      await kflog.stop(1000);
      return readLines(logFile).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

describe('TLS inside a Kubernetes port-forward', () => {
  it("reaches an HTTPS pod, checking its certificate against the service's cluster DNS name, sent as SNI", async () => {
    const k = await kflogToHttpsPod(serviceLeaf, { ca_file: pki.caCert });
    const res = await get(`${k.url}/users`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ pod: 'api-0', url: '/users', sni: 'api.default.svc' });
    const [access] = await k.stop();
    expect(access).toMatchObject({ status: 200, termination_state: '----', upstream: { pod: 'api-0' } });
    expect((access!.upstream as Record<string, unknown>).tls_insecure).toBeUndefined();
  });

  it("answers 502 SC-- with the reason when the pod's certificate is for another name", async () => {
    const k = await kflogToHttpsPod(otherLeaf, { ca_file: pki.caCert });
    expect((await get(`${k.url}/users`)).status).toBe(502);
    const [access] = await k.stop();
    expect(access).toMatchObject({ status: 502, termination_state: 'SC--' });
    expect(access!.error).toMatch(/api\.default\.svc/);
  });

  it('answers 502 SC-- when the pod is signed by a CA the forward does not trust', async () => {
    const k = await kflogToHttpsPod(serviceLeaf, { ca_file: pki.otherCaCert });
    expect((await get(`${k.url}/users`)).status).toBe(502);
    const [access] = await k.stop();
    expect(access).toMatchObject({ status: 502, termination_state: 'SC--' });
    expect(access!.error).toMatch(/certificate/);
  });

  it('checks the name server_name gives instead, and sends it as SNI', async () => {
    const k = await kflogToHttpsPod(otherLeaf, { ca_file: pki.caCert, server_name: 'billing.default.svc' });
    const res = await get(`${k.url}/users`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sni: 'billing.default.svc' });
    await k.stop();
  });

  it('reaches a pod target whose certificate is not checked with insecure_skip_verify, and marks its entries', async () => {
    const k = await kflogToHttpsPod(otherLeaf, { insecure_skip_verify: true }, { pod: 'api-0', port: 8443 });
    expect((await get(`${k.url}/users`)).status).toBe(200);
    const [access] = await k.stop();
    expect(access).toMatchObject({ status: 200, upstream: { pod: 'api-0', tls_insecure: true } });
  });

  it('gives up on a pod that never answers the TLS handshake at the connect timeout: 504 sC--', async () => {
    // Takes the stream's connection and says nothing: the handshake waits for a ServerHello that never comes.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const s of held) s.destroy();
      silent.close(() => resolve());
    }));
    const k = await kflogToHttpsPod({ silentPort: (silent.address() as { port: number }).port }, { ca_file: pki.caCert }, undefined, '300ms');
    expect((await get(`${k.url}/users`)).status).toBe(504);
    const [access] = await k.stop();
    expect(access).toMatchObject({ status: 504, termination_state: 'sC--' });
    expect(access!.error).toMatch(/TLS handshake with api\.default\.svc/);
  });
});
