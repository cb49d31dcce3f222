import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { internalCertificate, LEAF_LIFETIME_MS } from '../../src/pki/local-ca.js';
import { pkiPaths } from '../../src/pki/paths.js';
import { startProxy, type Harness } from '../proxy/helpers.js';

/**
 * kflog's local CA on disk: the root made once and kept, the folder and keys private, a leaf kept until a third of
 * its life is left. Each test has a HOME of its own (vitest runs each file in its own process, where HOME is what
 * os.homedir(), and so ~/.kflog, resolves to).
 */

const DAY_MS = 86_400_000;

let home: string;
let previousHome: string | undefined;
const stops: Array<() => Promise<void>> = [];
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'kflog-pki-home-'));
  previousHome = process.env.HOME;
  process.env.HOME = home;
  expect(homedir()).toBe(home);
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  process.env.HOME = previousHome;
  rmSync(home, { recursive: true, force: true });
});

async function internalProxy(): Promise<Harness> {
  const h = await startProxy({ target: { builtin: 'echo' }, listen_tls: 'internal' });
  stops.push(() => h.stop());
  return h;
}

/** The certificate a TLS listener serves a client that trusts `ca`, the handshake checked against it. */
function served(port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), ALPNProtocols: ['http/1.1'], timeout: 10_000 }, () => {
      const peer = s.getPeerCertificate();
      s.end();
      resolve(peer);
    });
    s.on('timeout', () => s.destroy(new Error('no handshake within the deadline')));
    s.on('error', reject);
  });
}

const fingerprint = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;
const serialOf = (pem: string): string => new X509Certificate(pem).serialNumber;

describe("kflog's local CA", () => {
  it('a second start under the same HOME keeps the root it made at the first, and serves a leaf it signed', async () => {
    const first = await internalProxy();
    const root = pkiPaths().rootCert;
    const made = fingerprint(root);
    await served(first.port, root);
    await first.app.stop(1000);
    stops.length = 0;

    const second = await internalProxy();
    expect(fingerprint(root)).toBe(made);
    // The handshake verifies against the root file: the leaf served is still that root's.
    const peer = await served(second.port, root);
    expect(peer.issuer.CN).toBe(new X509Certificate(readFileSync(root)).subject.replace(/^CN=/, ''));
  });

  it('keeps its folder 0700 and every private key 0600', async () => {
    await internalCertificate('127.0.0.1');
    const paths = pkiPaths();
    const mode = (p: string): number => statSync(p).mode & 0o777;
    expect(mode(paths.dir)).toBe(0o700);
    expect(mode(paths.rootKey)).toBe(0o600);
    expect(mode(paths.leafDir)).toBe(0o700);
    expect(mode(join(paths.leafDir, '127.0.0.1.key'))).toBe(0o600);
    // The certificates are public.
    expect(mode(paths.rootCert)).toBe(0o644);
  });

  it('serves a kept leaf again while more than a third of its life is left', async () => {
    const issued = await internalCertificate('127.0.0.1');
    const later = Date.now() + LEAF_LIFETIME_MS - LEAF_LIFETIME_MS / 3 - DAY_MS / 24;
    const again = await internalCertificate('127.0.0.1', () => later);
    expect(serialOf(again.cert)).toBe(serialOf(issued.cert));
    expect(again.key).toBe(issued.key);
  });

  it('issues a new leaf, signed by the same root, once less than a third of its life is left', async () => {
    const issued = await internalCertificate('127.0.0.1');
    const root = readFileSync(pkiPaths().rootCert, 'utf8');
    const later = Date.now() + LEAF_LIFETIME_MS - LEAF_LIFETIME_MS / 3 + DAY_MS / 24;
    const renewed = await internalCertificate('127.0.0.1', () => later);
    expect(serialOf(renewed.cert)).not.toBe(serialOf(issued.cert));
    const cert = new X509Certificate(renewed.cert);
    expect(cert.verify(new X509Certificate(root).publicKey)).toBe(true);
    expect(Date.parse(cert.validTo)).toBeGreaterThan(later + LEAF_LIFETIME_MS - DAY_MS);
    expect(readFileSync(pkiPaths().rootCert, 'utf8')).toBe(root);
    // The new leaf is the one kept: the next start at that time serves it.
    expect(serialOf((await internalCertificate('127.0.0.1', () => later)).cert)).toBe(serialOf(renewed.cert));
  });
});
