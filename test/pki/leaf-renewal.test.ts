import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listenTlsDigest, type ListenTls } from '../../src/config/listen-tls.js';
import { internalCertificate, LEAF_LIFETIME_MS, renewalAt } from '../../src/pki/local-ca.js';
import { pkiPaths } from '../../src/pki/paths.js';
import type { ListenerSide } from '../../src/proxy/listener-side.js';
import { keepInternalLeafFresh, type RenewalClock } from '../../src/proxy/tls-listen.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A running TLS listener's internal leaf is issued again at its renewal point, without a restart: shown on a real
 * TLS server with a test clock and timer, so the days pass at once.
 */

let home: string;
let previousHome: string | undefined;
let server: Server | undefined;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'kflog-renew-home-'));
  previousHome = process.env.HOME;
  process.env.HOME = home;
  expect(homedir()).toBe(home);
});
afterEach(async () => {
  if (server?.listening) await new Promise((r) => server!.close(r));
  server = undefined;
  process.env.HOME = previousHome;
  rmSync(home, { recursive: true, force: true });
});

type TestClock = RenewalClock & { at: number; pending: Array<{ fn: () => void; ms: number }>; cancelled: number };

/** A clock that moves when told, and a timer that runs what it was given when told. */
function testClock(start: number): TestClock {
  const clock: TestClock = {
    at: start,
    pending: [],
    cancelled: 0,
    now: () => clock.at,
    schedule: (fn, ms) => clock.pending.push({ fn, ms }),
    cancel: () => void clock.cancelled++,
  };
  return clock;
}

/** The listener as the renewal sees it: its route's config and the logger its entries go to. */
function listenerOf(tls: ListenTls): { side: Pick<ListenerSide, 'route'>; logged: string[] } {
  const logged: string[] = [];
  const logger = { info: (msg: string) => logged.push(msg), error: (msg: string) => logged.push(msg) };
  const route = { cfg: { id: 'f1', host: '127.0.0.1', listenTls: tls }, gen: { pipeline: { logger: () => logger } } };
  return { side: { route } as unknown as Pick<ListenerSide, 'route'>, logged };
}

async function tlsServer(tls: ListenTls): Promise<number> {
  server = createServer({ cert: tls.cert, key: tls.key }, (s) => s.end());
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** The certificate a new connection is served (not verified here: a leaf issued on a test clock days ahead is not valid yet). */
function servedCert(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, timeout: 10_000 }, () => {
      const cert = s.getPeerX509Certificate();
      s.end();
      if (cert === undefined) reject(new Error('no certificate served'));
      else resolve(cert);
    });
    s.on('timeout', () => s.destroy(new Error('no handshake within the deadline')));
    s.on('error', reject);
  });
}

async function internalTls(): Promise<ListenTls> {
  const { cert, key } = await internalCertificate('127.0.0.1');
  const tls = { cert, key, internal: true };
  return { ...tls, digest: listenTlsDigest(tls) };
}

describe('renewing the internal leaf of a running listener', () => {
  it('at the leaf\'s renewal point, new connections are served a new leaf of the same root', async () => {
    const tls = await internalTls();
    const port = await tlsServer(tls);
    const clock = testClock(Date.now());
    const { side, logged } = listenerOf(tls);
    keepInternalLeafFresh(server!, side, clock);

    // The first look, at once, finds the leaf fresh and waits for its renewal point: two thirds of its life.
    expect(clock.pending.map((p) => p.ms)).toEqual([0]);
    clock.pending[0]!.fn();
    await waitFor('the renewal point to be scheduled', () => clock.pending.length === 2);
    expect(clock.pending[1]!.ms).toBe(renewalAt(tls.cert) - clock.at);
    expect(Math.abs(clock.pending[1]!.ms - (LEAF_LIFETIME_MS * 2) / 3)).toBeLessThan(120_000);
    expect((await servedCert(port)).serialNumber).toBe(new X509Certificate(tls.cert).serialNumber);

    clock.at = renewalAt(tls.cert) + 1000;
    clock.pending[1]!.fn();
    await waitFor('the next renewal to be scheduled', () => clock.pending.length === 3);
    const served = await servedCert(port);
    expect(served.serialNumber).not.toBe(new X509Certificate(tls.cert).serialNumber);
    expect(served.verify(new X509Certificate(readFileSync(pkiPaths().rootCert)).publicKey)).toBe(true);
    expect(logged).toEqual(['internal certificate renewed']);
    // The next step is the new leaf's own renewal point.
    expect(clock.pending[2]!.ms).toBe(renewalAt(served.toString()) - clock.at);
  });

  it('a listener serving files is left as it is, and looked at again in an hour', async () => {
    const internal = await internalTls();
    const files = { ...internal, internal: false };
    const port = await tlsServer(files);
    const clock = testClock(Date.now() + LEAF_LIFETIME_MS);
    const { side, logged } = listenerOf(files);
    keepInternalLeafFresh(server!, side, clock);
    expect(clock.pending.map((p) => p.ms)).toEqual([3_600_000]);
    clock.pending[0]!.fn();
    await waitFor('the next look to be scheduled', () => clock.pending.length === 2);
    expect(clock.pending[1]!.ms).toBe(3_600_000);
    expect((await servedCert(port)).serialNumber).toBe(new X509Certificate(files.cert).serialNumber);
    expect(logged).toEqual([]);
  });

  it('cancels its timer when the server closes', async () => {
    const tls = await internalTls();
    await tlsServer(tls);
    const clock = testClock(Date.now());
    keepInternalLeafFresh(server!, listenerOf(tls).side, clock);
    await new Promise((r) => server!.close(r));
    expect(clock.cancelled).toBe(1);
  });
});
