import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitForLines } from '../helpers/files.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { startHttpsUpstream, type Upstream } from '../helpers/upstream.js';

let pki: TestPki;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  pki = makeTestPki(tempDir('pki').dir);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An https upstream answering 200 with the subject of the client certificate it was shown, if any. */
async function upstream(tls: { cert: string; key: string; clientCa?: string }): Promise<Upstream> {
  const u = await startHttpsUpstream((req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`hello ${peer.subject?.CN ?? 'stranger'}`);
  }, tls);
  cleanups.push(() => u.close());
  return u;
}

interface Running {
  proc: KflogProcess;
  url: string;
  dir: string;
}

/** kflog with one forward "tls" to `target` with `tls`, its entries in json in access.json. */
async function kflog(target: string, tls: Record<string, unknown>, dir = tempDir().dir): Promise<Running> {
  const { proc, addresses } = await startKflog({
    forwards: [{ id: 'tls', listen: '127.0.0.1:0', target: { url: target }, tls, log: { format: 'json', filename: 'access.json' } }],
  }, dir);
  cleanups.push(() => proc.stop());
  return { proc, url: `http://${addresses['tls']}`, dir };
}

interface LoggedAccess {
  status: number;
  error?: string;
  termination_state: string;
  upstream: { address: string; tls_insecure?: boolean };
}

/** The access entries of access.json once there are `n`. */
async function accessEntries(k: Running, n: number): Promise<LoggedAccess[]> {
  const lines = await waitForLines(join(k.dir, 'access.json'), (ls) => ls.filter((l) => l.includes('"termination_state"')).length >= n);
  return lines.filter((l) => l.includes('"termination_state"')).map((l) => JSON.parse(l) as LoggedAccess);
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: res.statusCode, body: await res.body.text() };
}

describe('upstream TLS options', () => {
  it('ca_file lets an upstream whose certificate the system roots do not know through', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const k = await kflog(u.url, { ca_file: pki.caCert });
    expect(await get(k.url + '/')).toEqual({ status: 200, body: 'hello stranger' });
    const [e] = await accessEntries(k, 1);
    expect(e!.status).toBe(200);
    expect(e!.upstream.tls_insecure).toBeUndefined();
  });

  it('without ca_file the same upstream is refused: ca_file is what trusts it', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const k = await kflog(u.url, {});
    expect((await get(k.url + '/')).status).toBe(502);
    const [e] = await accessEntries(k, 1);
    expect(e!.error).toMatch(/certificate/);
  });

  it('server_name is the name checked against the certificate, not the address dialled', async () => {
    const u = await upstream({ cert: pki.namedCert, key: pki.namedKey });
    const k = await kflog(u.url, { ca_file: pki.caCert, server_name: 'api.internal' });
    expect(await get(k.url + '/')).toEqual({ status: 200, body: 'hello stranger' });
  });

  it('server_name is sent as SNI, so the upstream picks the certificate for that name', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const server = u.server as unknown as TlsServer;
    const seen: Array<string | false> = [];
    server.on('secureConnection', (s: TLSSocket) => seen.push((s as TLSSocket & { servername: string | false }).servername));
    // The default certificate (127.0.0.1) would fail the check for api.internal: only SNI selects this one.
    server.addContext('api.internal', { cert: readFileSync(pki.namedCert), key: readFileSync(pki.namedKey) });
    const k = await kflog(u.url, { ca_file: pki.caCert, server_name: 'api.internal' });
    expect((await get(k.url + '/')).status).toBe(200);
    expect(seen).toEqual(['api.internal']);
  });

  it('insecure_skip_verify passes an unknown certificate, warns at start naming the forward, and marks every access entry', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const k = await kflog(u.url, { insecure_skip_verify: true });
    expect(k.proc.stderr).toMatch(/^kflog: warning: forward "tls": tls\.insecure_skip_verify is on/m);
    expect((await get(k.url + '/a')).status).toBe(200);
    expect((await get(k.url + '/b')).status).toBe(200);
    const entries = await accessEntries(k, 2);
    expect(entries.map((e) => e.upstream.tls_insecure)).toEqual([true, true]);
  });

  it('mTLS: the client certificate is presented and accepted', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey, clientCa: pki.clientCaCert });
    const k = await kflog(u.url, { ca_file: pki.caCert, client_cert_file: pki.clientCert, client_key_file: pki.clientKey });
    expect(await get(k.url + '/')).toEqual({ status: 200, body: 'hello client' });
  });

  it('mTLS: without the client certificate the upstream refuses, a 502 with the reason', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey, clientCa: pki.clientCaCert });
    let served = 0;
    u.server.prependListener('request', () => served++);
    const k = await kflog(u.url, { ca_file: pki.caCert });
    expect((await get(k.url + '/')).status).toBe(502);
    const [e] = await accessEntries(k, 1);
    expect(e!.status).toBe(502);
    // In TLS 1.3 the client's handshake ends before the server has judged it: the server's refusal reaches undici
    // as its alert, or, when the server's close comes first, as the closed connection.
    expect(e!.error).toMatch(/alert certificate required|other side closed/);
    expect(served).toBe(0);
  });
});

describe('upstream certificate errors are 502 SC-- with the reason', () => {
  it('a certificate from an unknown CA', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const k = await kflog(u.url, { ca_file: pki.otherCaCert });
    expect((await get(k.url + '/')).status).toBe(502);
    const [e] = await accessEntries(k, 1);
    expect(e).toMatchObject({ status: 502, termination_state: 'SC--' });
    // Node 24 adds a hint after node's reason ("; if the root CA is installed locally, try … --use-system-ca").
    expect(e!.error).toMatch(/^unable to verify the first certificate(;|$)/);
  });

  it('a certificate for another name', async () => {
    const u = await upstream({ cert: pki.namedCert, key: pki.namedKey });
    const k = await kflog(u.url, { ca_file: pki.caCert });
    expect((await get(k.url + '/')).status).toBe(502);
    const [e] = await accessEntries(k, 1);
    expect(e).toMatchObject({ status: 502, termination_state: 'SC--' });
    expect(e!.error).toMatch(/^Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  it('an expired certificate', async () => {
    const u = await upstream({ cert: pki.expiredCert, key: pki.expiredKey });
    const k = await kflog(u.url, { ca_file: pki.caCert });
    expect((await get(k.url + '/')).status).toBe(502);
    const [e] = await accessEntries(k, 1);
    expect(e).toMatchObject({ status: 502, termination_state: 'SC--', error: 'certificate has expired' });
  });
});

describe('upstream TLS files on reload', () => {
  it('a reload reads ca_file again: a CA written since is trusted, and an unreadable one refuses the reload', async () => {
    const u = await upstream({ cert: pki.leafCert, key: pki.leafKey });
    const dir = tempDir().dir;
    const ca = join(dir, 'trusted.crt');
    copyFileSync(pki.otherCaCert, ca);
    const k = await kflog(u.url, { ca_file: ca }, dir);
    expect((await get(k.url + '/')).status).toBe(502);

    copyFileSync(pki.caCert, ca);
    k.proc.child.kill('SIGHUP');
    await k.proc.waitFor(() => k.proc.stderr.includes('kflog: SIGHUP: reloaded config'), 'the reload');
    expect((await get(k.url + '/')).status).toBe(200);

    writeFileSync(ca, 'not a certificate\n');
    k.proc.child.kill('SIGHUP');
    await k.proc.waitFor(() => k.proc.stderr.includes('kflog: SIGHUP: keeping the running config'), 'the refused reload');
    expect(k.proc.stderr).toMatch(/\/forwards\/0\/tls\/ca_file: .*trusted\.crt is not a PEM certificate file/);
    expect((await get(k.url + '/')).status).toBe(200);
  });
});
