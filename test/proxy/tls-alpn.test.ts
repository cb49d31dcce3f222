import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alpnChoice } from '../../src/proxy/tls-listen.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { startProxy, type Harness, type ForwardSpec } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki(mkdtempSync(join(tmpdir(), 'kflog-alpn-')));
});

async function proxy(forward: Partial<ForwardSpec>): Promise<Harness> {
  const h = await startProxy({ target: { builtin: 'echo' }, listen_tls: { cert_file: pki.leafCert, key_file: pki.leafKey }, ...forward } as ForwardSpec);
  cleanups.push(() => h.stop());
  return h;
}

/** curl's HTTP version and status for an https URL on the proxy, trusting the test CA, with a deadline. */
function curl(h: Harness, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--max-time', '10',
      '--cacert', pki.caCert, ...args, `https://127.0.0.1:${h.port}/api/users`],
    { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

describe('HTTP/2 over TLS by ALPN on a TLS listener', () => {
  it('curl --http2 gets HTTP/2, and the entry says HTTP/2.0 with h2 as the TLS protocol', async () => {
    const h = await proxy({});
    expect(await curl(h, ['--http2'])).toBe('2 200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.proto).toBe('HTTP/2.0');
    expect(a!.request.tls?.proto).toBe('h2');
    expect(a!.request.tls?.version).toBe(772);
    expect(h.requests()[0]!.request.tls?.proto).toBe('h2');
  });

  it('curl --http1.1 on the same port gets HTTP/1.1, with http/1.1 as the TLS protocol', async () => {
    const h = await proxy({});
    expect(await curl(h, ['--http1.1'])).toBe('1.1 200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.proto).toBe('HTTP/1.1');
    expect(a!.request.tls?.proto).toBe('http/1.1');
  });

  it('without "h2" in protocols, a client asking for h2 is served HTTP/1.1', async () => {
    const h = await proxy({ protocols: ['h1'] });
    expect(await curl(h, ['--http2'])).toBe('1.1 200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.proto).toBe('HTTP/1.1');
  });

  it('tells an HTTP/1.1 upstream the client used https (X-Forwarded-Proto), for an HTTP/1.1 client too', async () => {
    const seen: Array<string | undefined> = [];
    const up: Server = createServer((req, res) => {
      seen.push(req.headers['x-forwarded-proto'] as string | undefined);
      res.end('ok');
    });
    await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => up.close(r)));
    const h = await proxy({ target: { url: `http://127.0.0.1:${(up.address() as AddressInfo).port}` } });
    expect(await curl(h, ['--http1.1'])).toBe('1.1 200');
    expect(await curl(h, ['--http2'])).toBe('2 200');
    expect(seen).toEqual(['https', 'https']);
  });

  it('chooses h2 only when offered and served, http/1.1 otherwise, and refuses a client offering neither', () => {
    expect(alpnChoice(['h2', 'http/1.1'], true)).toBe('h2');
    expect(alpnChoice(['http/1.1', 'h2'], true)).toBe('h2');
    expect(alpnChoice(['h2', 'http/1.1'], false)).toBe('http/1.1');
    expect(alpnChoice(['h2'], false)).toBeUndefined();
    expect(alpnChoice(['spdy/3'], true)).toBeUndefined();
  });
});
