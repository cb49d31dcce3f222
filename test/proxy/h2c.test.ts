import { execFile } from 'node:child_process';
import { connect, constants, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type Harness, type ForwardSpec } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function proxy(forward: ForwardSpec): Promise<Harness> {
  const h = await startProxy(forward);
  cleanups.push(() => h.stop());
  return h;
}

/** curl's status line version and code, with a deadline. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--max-time', '10', ...args],
      { timeout: 15_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** An h2c upstream that answers every request with a body and a grpc-status trailer. */
async function h2cUpstream(): Promise<{ url: string }> {
  const server: Http2Server = createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end('from h2c');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('HTTP/2 in cleartext (h2c) on the HTTP/1.1 port', () => {
  it('curl --http2-prior-knowledge gets HTTP/2 and the entries say HTTP/2.0', async () => {
    const h = await proxy({ target: { builtin: 'echo' }, protocols: ['h1', 'h2c'] });
    expect(await curl(['--http2-prior-knowledge', h.url + '/api/users'])).toBe('2 200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.proto).toBe('HTTP/2.0');
    expect(a!.request.uri).toBe('/api/users');
    expect(a!.request.host).toBe(`127.0.0.1:${h.port}`);
    expect(a!.status).toBe(200);
    expect(a!.termination_state).toBe('----');
    expect(h.requests()[0]!.trace_id).toBe(a!.trace_id);
  });

  it('plain curl on the same port still speaks HTTP/1.1', async () => {
    const h = await proxy({ target: { builtin: 'echo' }, protocols: ['h1', 'h2c'] });
    expect(await curl([h.url + '/api/users'])).toBe('1.1 200');
    const [a] = await h.waitAccess(1);
    expect(a!.request.proto).toBe('HTTP/1.1');
  });

  it('without h2c in protocols the preface is not HTTP/2 to kflog', async () => {
    const h = await proxy({ target: { builtin: 'echo' } });
    await expect(curl(['--http2-prior-knowledge', h.url + '/api/users'])).rejects.toThrow();
  });

  it('concurrent streams on one connection each get their own entry pair', async () => {
    const h = await proxy({ target: { builtin: 'echo' }, protocols: ['h1', 'h2c'] });
    const client = connect(h.url);
    cleanups.push(async () => client.close());
    const one = (path: string): Promise<number> => new Promise((resolve, reject) => {
      const req = client.request({ ':path': path });
      req.setTimeout(10_000, () => reject(new Error('timed out')));
      req.on('response', (headers) => resolve(Number(headers[':status'])));
      req.on('error', reject);
      req.resume();
    });
    expect(await Promise.all([one('/api/users'), one('/status/201'), one('/bytes/10')])).toEqual([200, 201, 200]);
    const access = await h.waitAccess(3);
    expect(new Set(access.map((a) => a.trace_id)).size).toBe(3);
    expect(access.map((a) => a.request.uri).sort()).toEqual(['/api/users', '/bytes/10', '/status/201']);
  });

  it('a client RST_STREAM before the response ends is logged as a client abort', async () => {
    const h = await proxy({ target: { builtin: 'echo' }, protocols: ['h1', 'h2c'] });
    const client = connect(h.url);
    cleanups.push(async () => client.close());
    const req = client.request({ ':path': '/delay/5000' });
    req.on('error', () => undefined);
    // Wait until the exchange is under way (its request entry is out), then reset it.
    await waitFor(() => 'the request entry', () => h.requests().length === 1, 10_000);
    req.close(constants.NGHTTP2_CANCEL);
    const [a] = await h.waitAccess(1);
    expect(a!.termination_state).toMatch(/^C[HC]--$/);
    expect(a!.error).toMatch(/RST_STREAM CANCEL/);
  });

  it('an h2c upstream (versions ["h2c"]) sends its trailers back to the HTTP/2 client', async () => {
    const up = await h2cUpstream();
    const h = await proxy({ target: { url: up.url }, protocols: ['h1', 'h2c'], versions: ['h2c'] });
    const client = connect(h.url);
    cleanups.push(async () => client.close());
    const got = await new Promise<{ body: string; trailers: Record<string, unknown> }>((resolve, reject) => {
      const req = client.request({ ':path': '/svc/Method' });
      req.setTimeout(10_000, () => reject(new Error('timed out')));
      let body = '';
      let trailers: Record<string, unknown> = {};
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('trailers', (t) => (trailers = t));
      req.on('end', () => resolve({ body, trailers }));
      req.on('error', reject);
    });
    expect(got.body).toBe('from h2c');
    expect(got.trailers['grpc-status']).toBe('0');
    const [a] = await h.waitAccess(1);
    expect(a!.upstream.proto).toBe('HTTP/2.0');
  });
});
