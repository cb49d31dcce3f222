import { spawn, type ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { AccessEntry } from '../../src/core/entry.js';
import { parseResponses, rawClient } from '../helpers/http.js';
import { onRequestHead, startRawUpstream, startUpstream, type RawUpstream, type Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type Harness } from './helpers.js';

let proxy: Harness | undefined;
let upstream: Upstream | RawUpstream | undefined;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  await proxy?.stop();
  await upstream?.close();
  for (const c of cleanups.splice(0)) await c();
  proxy = undefined;
  upstream = undefined;
});

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Stops the proxy (flushing everything) and returns its only access entry: a failure is logged exactly once. */
async function theOnlyAccessEntry(): Promise<AccessEntry> {
  await proxy!.waitAccess(1);
  await proxy!.stop();
  const access = proxy!.access();
  expect(access).toHaveLength(1);
  return access[0]!;
}

function expectTimers(e: AccessEntry, signs: { tq: '+' | '-'; tc: '+' | '-'; tr: '+' | '-' }): void {
  const sign = (n: number): '+' | '-' => (n >= 0 ? '+' : '-');
  expect({ tq: sign(e.timings.tq), tc: sign(e.timings.tc), tr: sign(e.timings.tr) }).toEqual(signs);
  expect(e.timings.tt).toBeGreaterThanOrEqual(0);
  if (signs.tc === '-') expect(e.timings.tc).toBe(-1);
  if (signs.tr === '-') expect(e.timings.tr).toBe(-1);
}

describe('upstream failures', () => {
  it('an upstream refusing the connection is a 502 SC-- with no connect or response time', async () => {
    proxy = await startProxy({ target: { url: `http://127.0.0.1:${await freePort()}` } });
    const res = await request(proxy.url + '/down/health');
    expect(res.statusCode).toBe(502);
    expect(await res.body.text()).toContain('Bad Gateway');
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(502);
    expect(e.termination_state).toBe('SC--');
    expect(e.level).toBe('error');
    expect(e.error).toMatch(/ECONNREFUSED/);
    expectTimers(e, { tq: '+', tc: '-', tr: '-' });
  });

  it('an upstream whose name does not resolve is a 502 SC-- naming the reason', async () => {
    proxy = await startProxy({ target: { url: 'http://kflog-test.invalid:8080' } });
    const res = await request(proxy.url + '/');
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('SC--');
    expect(e.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expectTimers(e, { tq: '+', tc: '-', tr: '-' });
  });

  it('an upstream that never completes the TCP handshake is a 504 sC-- after the connect timeout', async () => {
    const { port, child } = await startBlackhole();
    cleanups.push(() => child.kill());
    proxy = await startProxy({ target: { url: `http://127.0.0.1:${port}` }, timeouts: { connect: '300ms' } });
    const res = await request(proxy.url + '/');
    expect(res.statusCode).toBe(504);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('sC--');
    expect(e.error).toMatch(/timeout/i);
    expectTimers(e, { tq: '+', tc: '-', tr: '-' });
    expect(e.timings.tt).toBeGreaterThanOrEqual(250);
  });

  it('an upstream that accepts but never answers is a 504 sH-- after the headers timeout', async () => {
    upstream = await startRawUpstream(() => undefined);
    proxy = await startProxy({ target: { url: upstream.url }, timeouts: { headers: '300ms' } });
    const res = await request(proxy.url + '/slow');
    expect(res.statusCode).toBe(504);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('sH--');
    expectTimers(e, { tq: '+', tc: '+', tr: '-' });
    expect(e.timings.tt).toBeGreaterThanOrEqual(250);
  });

  it('an upstream that stalls mid-body ends sD-- after the body timeout, the client seeing a short body', async () => {
    upstream = await startRawUpstream((s) =>
      onRequestHead(s, () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(100))));
    proxy = await startProxy({ target: { url: upstream.url }, timeouts: { body: '300ms' } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /stall HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 200/);
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(200);
    expect(e.termination_state).toBe('sD--');
    expect(e.size).toBe(100);
    expectTimers(e, { tq: '+', tc: '+', tr: '+' });
  });

  it('an upstream that closes without answering is a 502 SH--', async () => {
    upstream = await startRawUpstream((s) => onRequestHead(s, () => s.destroy()));
    proxy = await startProxy({ target: { url: upstream.url } });
    const res = await request(proxy.url + '/');
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('SH--');
    expectTimers(e, { tq: '+', tc: '+', tr: '-' });
  });

  it('an upstream that answers something other than HTTP is a 502 PH--', async () => {
    upstream = await startRawUpstream((s) => onRequestHead(s, () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    proxy = await startProxy({ target: { url: upstream.url } });
    const res = await request(proxy.url + '/');
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('PH--');
    expectTimers(e, { tq: '+', tc: '+', tr: '-' });
  });

  it('an upstream that resets mid-body ends SD-- with the status already sent and the bytes that got through', async () => {
    upstream = await startRawUpstream((s) =>
      onRequestHead(s, () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n');
        s.write(Buffer.alloc(1000, 0x61), () => setTimeout(() => s.resetAndDestroy(), 50));
      }));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(200);
    expect(e.termination_state).toBe('SD--');
    expect(e.size).toBe(1000);
    expect(e.error).toBeTruthy();
    expectTimers(e, { tq: '+', tc: '+', tr: '+' });
  });

  it('with retries, a refused connection is tried again and succeeds once the upstream is up', async () => {
    const port = await freePort();
    proxy = await startProxy({ target: { url: `http://127.0.0.1:${port}` }, retries: 2 });
    let refused = 0;
    const onConnectError = (): void => void refused++;
    subscribe('undici:client:connectError', onConnectError);
    cleanups.push(() => unsubscribe('undici:client:connectError', onConnectError));
    const pending = request(proxy.url + '/api');
    await waitFor('a refused connect', () => refused > 0, 5000);
    upstream = await startUpstream((_req, res) => res.end('up now'), port);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('up now');
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(200);
    expect(e.termination_state).toBe('----');
    expect(e.conn.retries).toBe(1);
    expectTimers(e, { tq: '+', tc: '+', tr: '+' });
  });

  it('retries that all fail end 502 SC-- with the attempts counted', async () => {
    proxy = await startProxy({ target: { url: `http://127.0.0.1:${await freePort()}` }, retries: 1, timeouts: { connect: '200ms' } });
    const res = await request(proxy.url + '/');
    expect(res.statusCode).toBe(502);
    await res.body.dump();
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('SC--');
    expect(e.conn.retries).toBe(1);
    expect(e.timings.tt).toBeGreaterThanOrEqual(150);
    expectTimers(e, { tq: '+', tc: '-', tr: '-' });
  });
});

describe('client failures', () => {
  it('a client giving up before the response is CH--, status 0, and the upstream request is cancelled', async () => {
    let upstreamClosed = false;
    let arrived = false;
    upstream = await startUpstream((req, res) => {
      arrived = true;
      res.on('close', () => (upstreamClosed = true));
    });
    // A client's close reaches kflog as a FIN, the same as a half-close that still waits for its response: only
    // abort_on_close (HAProxy's abortonclose) gives up on the upstream then; without it the exchange waits.
    proxy = await startProxy({ target: { url: upstream.url }, abort_on_close: true });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the request upstream', () => arrived, 5000);
    c.socket.destroy();
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(0);
    expect(e.termination_state).toBe('CH--');
    expect(e.bytes_sent).toBe(0);
    expectTimers(e, { tq: '+', tc: '+', tr: '-' });
    await waitFor('upstream request closed', () => upstreamClosed, 5000);
  });

  it('a client aborting mid-body is CD-- with the status sent and part of the body counted', async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 100_000_000 });
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => clearInterval(timer));
    });
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('some body', () => c.received().length > 200_000, 10_000);
    c.socket.destroy();
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(200);
    expect(e.termination_state).toBe('CD--');
    expect(e.size).toBeGreaterThan(0);
    expect(e.size).toBeLessThan(100_000_000);
    expectTimers(e, { tq: '+', tc: '+', tr: '+' });
  });

  it('a client aborting while uploading its body is CD-- with the bytes it sent counted', async () => {
    let got = 0;
    upstream = await startUpstream((req) => req.on('data', (d: Buffer) => (got += d.length)));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n' + 'u'.repeat(5000));
    await waitFor('the first body bytes upstream', () => got >= 5000, 5000);
    c.socket.destroy();
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(0);
    expect(e.termination_state).toBe('CD--');
    expect(e.bytes_read).toBe(5000);
    expectTimers(e, { tq: '+', tc: '+', tr: '-' });
  });

  it('a request whose line parsed but whose header did not is logged with its method, URI and protocol', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /orders?page=2 HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 400 Bad Request/);
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('CR--');
    expect(e.request).toMatchObject({ method: 'GET', uri: '/orders?page=2', proto: 'HTTP/1.1', raw_line: 'GET /orders?page=2 HTTP/1.1' });
  });

  it('a malformed request is answered 400 and logged CR-- with its raw line', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    const c = await rawClient(proxy.port);
    c.socket.write('THIS IS NOT HTTP\x01\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 400 Bad Request/);
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(400);
    expect(e.termination_state).toBe('CR--');
    expect(e.request.raw_line).toBe('THIS IS NOT HTTP\x01');
    expect(e.request).toMatchObject({ method: '', uri: '', proto: '' });
    expect(e.error).toMatch(/malformed request/);
    expect(e.timings).toMatchObject({ tq: -1, tw: -1, tc: -1, tr: -1 });
    expect(e.timings.tt).toBeGreaterThanOrEqual(0);
  });

  it('request headers beyond the limit are answered 431 and logged CR--', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /api/users HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'b'.repeat(20_000) + '\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 431 /);
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(431);
    expect(e.termination_state).toBe('CR--');
    expect(e.timings).toMatchObject({ tq: -1, tc: -1, tr: -1 });
  });

  it('a client too slow to send its request head is answered 408 and logged cR--', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' }, timeouts: { idle: '500ms' } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /api/users HTTP/1.1\r\nHost: x\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 408 /);
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(408);
    expect(e.termination_state).toBe('cR--');
    expect(e.timings.tt).toBeGreaterThanOrEqual(400);
  });

  it('an idle keep-alive connection is closed after the idle timeout without a log line', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' }, timeouts: { idle: '300ms' } });
    const c = await rawClient(proxy.port);
    const t0 = Date.now();
    c.socket.write('GET /api/users HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(parseResponses(c.received())).toHaveLength(1);
    const e = await theOnlyAccessEntry();
    expect(e.termination_state).toBe('----');
  });

  it('a CONNECT request is answered 405 and logged PR--', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    const c = await rawClient(proxy.port);
    c.socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await c.closed;
    expect(c.received().toString()).toMatch(/^HTTP\/1.1 405 /);
    const e = await theOnlyAccessEntry();
    expect(e.status).toBe(405);
    expect(e.termination_state).toBe('PR--');
    expect(e.request.method).toBe('CONNECT');
  });

  it('a connection opened and closed without a byte is not an exchange', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    const s: Socket = connect(proxy.port, '127.0.0.1');
    await once(s, 'connect');
    s.end();
    await once(s, 'close');
    await proxy.stop();
    expect(proxy.access()).toHaveLength(0);
  });
});

/**
 * A port whose accept queue is full: a child process listens with backlog 1 and then blocks its only thread
 * (Atomics.wait, no CPU), two connections fill the queue, and further SYNs go unanswered — a real connect timeout.
 */
async function startBlackhole(): Promise<{ port: number; child: ChildProcess }> {
  const code = `
    const { createServer } = require('node:net');
    const s = createServer();
    s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await once(s, 'connect');
    fillers.push(s);
  }
  cleanups.push(() => fillers.forEach((s) => s.destroy()));
  return { port, child };
}
