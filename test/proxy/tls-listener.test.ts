import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessEntry } from '../../src/core/entry.js';
import { pkiPaths } from '../../src/pki/paths.js';
import { makeTestPki, signedLeaf, type TestPki } from '../helpers/pki.js';
import { waitFor } from '../helpers/wait.js';
import { buildConfig, startProxy, type ForwardSpec, type Harness } from './helpers.js';

/**
 * The TLS listener (`listen_tls`) as its clients meet it: real curl, openssl-made certificates and node:tls
 * clients against kflog started in-process on a loopback port, the entries read from its pipeline.
 */

/** Every client call below waits at most this: a handshake and one request on loopback take milliseconds. */
const CLIENT_DEADLINE_MS = 10_000;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let pki: TestPki;
/** A client certificate signed by a CA the listener does not trust (pki's "other-ca"). */
let strangerCert: string;
let strangerKey: string;
beforeAll(() => {
  pki = makeTestPki(mkdtempSync(join(tmpdir(), 'kflog-tls-listener-')));
  const dir = pki.dir;
  const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'stranger.key', '-out', 'stranger.csr', '-subj', '/CN=stranger']);
  run(['x509', '-req', '-in', 'stranger.csr', '-CA', 'other-ca.crt', '-CAkey', 'other-ca.key', '-CAcreateserial', '-out', 'stranger.crt', '-days', '2']);
  strangerCert = join(dir, 'stranger.crt');
  strangerKey = join(dir, 'stranger.key');
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));

async function proxy(forward: Partial<ForwardSpec>): Promise<Harness> {
  const h = await startProxy({ target: { builtin: 'echo' }, listen_tls: { cert_file: pki.leafCert, key_file: pki.leafKey }, ...forward } as ForwardSpec);
  cleanups.push(() => h.stop());
  return h;
}

/** The process entries the TLS listener of forward f1 logged for failed handshakes. */
function handshakeEntries(h: Harness): ProcessEntry[] {
  return h.entries.filter((e): e is ProcessEntry => e.kind === 'process' && e.logger === 'tls.handshake.f1');
}

interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** curl, run to its end with a deadline; its exit code kept (curl's codes say what the client saw). */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') reject(err);
      else resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

interface Answer {
  status: number;
  body: string;
  socket: TLSSocket;
  peer: PeerCertificate;
}

/** One GET over https with node's client (the options say whom it trusts, what it presents, which agent), read whole. */
function get(port: number, options: RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/users', agent: false, timeout: CLIENT_DEADLINE_MS, ...options }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket, peer }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within the deadline')));
    req.on('error', reject);
    req.end();
  });
}

/** The SHA-256 fingerprint node reports for the first certificate of a PEM file. */
const fingerprintOf = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

describe('listen_tls "internal": a certificate from kflog\'s local CA', () => {
  let home: string;
  let previousHome: string | undefined;
  beforeAll(() => {
    // The CA lives under ~/.kflog/pki: a temp HOME keeps the test's CA out of the user's (vitest runs each file
    // in its own process, where HOME is what os.homedir() reads).
    home = mkdtempSync(join(tmpdir(), 'kflog-home-'));
    previousHome = process.env.HOME;
    process.env.HOME = home;
    expect(homedir()).toBe(home);
  });
  afterAll(() => {
    process.env.HOME = previousHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('curl trusting only the local root (--cacert, no -k) gets its answer from https://127.0.0.1, and the entry has TLS 1.3, its cipher suite, ALPN and no server name', async () => {
    const h = await proxy({ listen_tls: 'internal' });
    const root = pkiPaths().rootCert;
    expect(root.startsWith(home)).toBe(true);
    const r = await curl(['--http1.1', '--cacert', root, '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${h.port}/api/users`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.tls).toMatchObject({ version: 772, proto: 'http/1.1', server_name: '', resumed: false });
    // TLS 1.3's suites (RFC 8446 §B.4): which one depends on the machine's AES support.
    expect([0x1301, 0x1302, 0x1303]).toContain(a!.request.tls!.cipher_suite);
    expect(a!.request.tls!.client_common_name).toBeUndefined();
  });

  it('curl dialling https://localhost by name, trusting the same root, gets its answer, and the entry logs "localhost" as the server name', async () => {
    const h = await proxy({ listen_tls: 'internal' });
    const r = await curl(['--http1.1', '--cacert', pkiPaths().rootCert, '--resolve', `localhost:${h.port}:127.0.0.1`,
      '-o', '/dev/null', '-w', '%{http_code}', `https://localhost:${h.port}/api/users`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.tls?.server_name).toBe('localhost');
  });
});

describe('listen_tls client_ca_file: client certificates, verified when given', () => {
  const withClientCa = (): Promise<Harness> =>
    proxy({ listen_tls: { cert_file: pki.leafCert, key_file: pki.leafKey, client_ca_file: pki.clientCaCert } });

  it('a client presenting a certificate of the client CA is let in, and the entry carries its common name and decimal serial', async () => {
    const h = await withClientCa();
    const got = await get(h.port, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
    expect(got.status).toBe(200);
    const [a] = await h.waitAccess(1);
    const serialHex = new X509Certificate(readFileSync(pki.clientCert)).serialNumber;
    expect(a!.request.tls?.client_common_name).toBe('client');
    expect(a!.request.tls?.client_serial).toBe(BigInt('0x' + serialHex).toString(10));
    expect(a!.request.tls?.client_serial).toMatch(/^[1-9]\d*$/);
  });

  it('a client without a certificate is let in, and the entry has no client fields', async () => {
    const h = await withClientCa();
    const got = await get(h.port, { ca: readFileSync(pki.caCert) });
    expect(got.status).toBe(200);
    const [a] = await h.waitAccess(1);
    expect(a!.request.tls?.client_common_name).toBeUndefined();
    expect(a!.request.tls?.client_serial).toBeUndefined();
    expect(handshakeEntries(h)).toEqual([]);
  });

  it('a client presenting a certificate of another CA finishes its TLS 1.3 handshake, is then cut with no answer, and one PR-- handshake entry is logged and no access entry', async () => {
    const h = await withClientCa();
    // Under TLS 1.3 the client's certificate comes in its last flight: the client is done before kflog sees it.
    const seen = await new Promise<{ secured: boolean; version: string | null; received: string; error: string }>((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1', port: h.port, ca: readFileSync(pki.caCert), cert: readFileSync(strangerCert), key: readFileSync(strangerKey),
        minVersion: 'TLSv1.3', ALPNProtocols: ['http/1.1'],
      });
      const timer = setTimeout(() => (s.destroy(), reject(new Error('the connection was not closed within the deadline'))), CLIENT_DEADLINE_MS);
      let secured = false;
      let version: string | null = null;
      let received = '';
      let error = '';
      s.on('secureConnect', () => {
        secured = true;
        version = s.getProtocol();
        s.write('GET /api/users HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      s.setEncoding('utf8').on('data', (d: string) => (received += d));
      s.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ secured, version, received, error });
      });
    });
    expect(seen.secured).toBe(true);
    expect(seen.version).toBe('TLSv1.3');
    expect(seen.received).toBe('');
    const [e] = await waitFor('the handshake entry', () => (handshakeEntries(h).length > 0 ? handshakeEntries(h) : undefined), CLIENT_DEADLINE_MS);
    expect(e!.fields).toMatchObject({ forward: 'f1', remote_ip: '127.0.0.1', termination_state: 'PR--' });
    expect(String(e!.fields.error)).toMatch(/^client certificate not trusted: /);
    // The refusal and the socket's end are one turn: any exchange would have started before the close was seen.
    await waitFor('the connection to close', () => h.app.listeners[0]!.connections === 0, CLIENT_DEADLINE_MS);
    expect(handshakeEntries(h)).toHaveLength(1);
    expect(h.access()).toEqual([]);
    expect(h.requests()).toEqual([]);
  });
});

describe('what is not TLS on a TLS port', () => {
  it('curl http:// to the TLS port gets Go\'s cleartext 400, and one CR-- handshake entry names its port', async () => {
    const h = await proxy({});
    const r = await curl(['-w', '%{http_code} %{local_port}', `http://127.0.0.1:${h.port}/api/users`]);
    expect(r.code).toBe(0);
    // The body, then -w's line after its newline.
    const cut = r.stdout.lastIndexOf('\n') + 1;
    const body = r.stdout.slice(0, cut);
    const [status, localPort] = r.stdout.slice(cut).split(' ');
    expect(body).toBe('Client sent an HTTP request to an HTTPS server.\n');
    expect(status).toBe('400');
    const [e] = await waitFor('the handshake entry', () => (handshakeEntries(h).length > 0 ? handshakeEntries(h) : undefined), CLIENT_DEADLINE_MS);
    expect(e!.fields).toMatchObject({
      forward: 'f1', remote_ip: '127.0.0.1', remote_port: localPort, termination_state: 'CR--', error: 'plain HTTP request sent to the TLS listener',
    });
    await waitFor('the connection to close', () => h.app.listeners[0]!.connections === 0, CLIENT_DEADLINE_MS);
    expect(handshakeEntries(h)).toHaveLength(1);
    expect(h.access()).toEqual([]);
  });

  it('a connection that sends nothing and closes logs nothing', async () => {
    const h = await proxy({});
    await new Promise<void>((resolve, reject) => {
      const s = netConnect({ host: '127.0.0.1', port: h.port }, () => s.end());
      s.on('error', reject).on('close', () => resolve());
      s.setTimeout(CLIENT_DEADLINE_MS, () => s.destroy(new Error('not closed within the deadline')));
    });
    await waitFor('kflog to see the close', () => h.app.listeners[0]!.connections === 0, CLIENT_DEADLINE_MS);
    // Entries are delivered in order: a line for the silent connection would come before this one's.
    const r = await curl(['-o', '/dev/null', '-w', '%{local_port}', `http://127.0.0.1:${h.port}/`]);
    const entries = await waitFor('the plain HTTP entry', () => (handshakeEntries(h).length > 0 ? handshakeEntries(h) : undefined), CLIENT_DEADLINE_MS);
    expect(entries.map((e) => e.fields.remote_port)).toEqual([r.stdout]);
  });
});

/** A TLS record header announcing 512 bytes of handshake, and the first few of them: a ClientHello begun, never finished. */
const HALF_CLIENT_HELLO = Buffer.from('160301020001000200' + '0303', 'hex');

/** Opens a TCP connection, writes `first` (if anything), and resolves with how long kflog let it stay open. */
function heldOpen(port: number, first: Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s: Socket = netConnect({ host: '127.0.0.1', port }, () => {
      if (first !== undefined) s.write(first);
    });
    s.setTimeout(CLIENT_DEADLINE_MS, () => s.destroy(new Error('kflog did not cut the connection within the deadline')));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    s.on('close', () => resolve(performance.now() - started));
    s.resume();
  });
}

describe('a handshake that never ends', () => {
  const IDLE_MS = 400;

  it('a client that begins its handshake and stops is cut at the forward\'s idle timeout, logged cR--', async () => {
    const h = await proxy({ timeouts: { idle: `${IDLE_MS}ms` } });
    const heldMs = await heldOpen(h.port, HALF_CLIENT_HELLO);
    // node's handshake timer starts at accept, a little after the client's connect began.
    expect(heldMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(heldMs).toBeLessThan(IDLE_MS + 3000);
    const [e] = await waitFor('the handshake entry', () => (handshakeEntries(h).length > 0 ? handshakeEntries(h) : undefined), CLIENT_DEADLINE_MS);
    expect(e!.fields).toMatchObject({ forward: 'f1', remote_ip: '127.0.0.1', termination_state: 'cR--' });
    expect(handshakeEntries(h)).toHaveLength(1);
  });

  it('a connection that sends nothing is cut at the idle timeout without a line, as a cleartext preconnect is', async () => {
    const h = await proxy({ timeouts: { idle: `${IDLE_MS}ms` } });
    const heldMs = await heldOpen(h.port, undefined);
    expect(heldMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    await waitFor('kflog to see the close', () => h.app.listeners[0]!.connections === 0, CLIENT_DEADLINE_MS);
    const r = await curl(['-o', '/dev/null', '-w', '%{local_port}', `http://127.0.0.1:${h.port}/`]);
    const entries = await waitFor('the plain HTTP entry', () => (handshakeEntries(h).length > 0 ? handshakeEntries(h) : undefined), CLIENT_DEADLINE_MS);
    expect(entries.map((e) => e.fields.remote_port)).toEqual([r.stdout]);
  });
});

describe('reload with a new certificate', () => {
  it('a new connection is served the new certificate, and a keep-alive connection opened before carries on with the old one', async () => {
    const h = await proxy({});
    const ca = readFileSync(pki.caCert);
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    cleanups.push(() => agent.destroy());
    const before = await get(h.port, { agent });
    expect(before.status).toBe(200);
    expect(before.peer.fingerprint256).toBe(fingerprintOf(pki.leafCert));

    const next = signedLeaf(pki, 'reloaded', 'IP:127.0.0.1,DNS:localhost');
    const b = buildConfig([{ listen: `127.0.0.1:${h.port}`, target: { builtin: 'echo' }, listen_tls: { cert_file: next.cert, key_file: next.key } }]);
    const summary = await h.app.reload(b.config);
    expect(summary.kept).toEqual([`127.0.0.1:${h.port}`]);

    const fresh = await get(h.port, { ca });
    expect(fresh.status).toBe(200);
    expect(fresh.peer.fingerprint256).toBe(fingerprintOf(next.cert));
    expect(fresh.peer.serialNumber).toBe(new X509Certificate(readFileSync(next.cert)).serialNumber);

    const kept = await get(h.port, { agent });
    expect(kept.status).toBe(200);
    expect(kept.socket).toBe(before.socket);
    expect(kept.peer.fingerprint256).toBe(fingerprintOf(pki.leafCert));
    // Both requests after the reload are the new config's.
    await waitFor('two access entries of the new config', () => b.entries.filter((e) => e.kind === 'access').length === 2, CLIENT_DEADLINE_MS);
  });
});
