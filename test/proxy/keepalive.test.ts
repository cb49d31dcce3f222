import { afterEach, describe, expect, it } from 'vitest';
import { parseResponses, rawClient } from '../helpers/http.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';
import { startProxy, type Harness } from './helpers.js';

let proxy: Harness | undefined;
let upstream: Upstream | undefined;

afterEach(async () => {
  await proxy?.stop();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

describe('one client connection carrying several requests', () => {
  it('pipelined requests sent in one write get three responses and three traces, in order', async () => {
    upstream = await startUpstream((req, res) => {
      // The first answer is the slowest: order must come from the connection, not from who finishes first.
      const delay = req.url === '/a' ? 60 : req.url === '/b' ? 20 : 0;
      setTimeout(() => {
        const body = `answer ${req.url}`;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
        res.end(body);
      }, delay);
    });
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /b HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /c HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await c.waitFor('answer /c');
    const responses = parseResponses(c.received());
    expect(responses.map((r) => r.body.toString())).toEqual(['answer /a', 'answer /b', 'answer /c']);

    const access = await proxy.waitAccess(3);
    const requests = proxy.requests();
    expect(requests.map((e) => e.request.uri)).toEqual(['/a', '/b', '/c']);
    expect(access.map((e) => e.request.uri)).toEqual(['/a', '/b', '/c']);
    expect(access.map((e) => e.trace_id)).toEqual(requests.map((e) => e.trace_id));
    expect(new Set(access.map((e) => e.trace_id)).size).toBe(3);
    for (const e of access) {
      expect(e.status).toBe(200);
      expect(e.termination_state).toBe('----');
      expect(e.request.remote_port).toBe(String(c.socket.localPort));
    }
    // HAProxy's Tq: from accept for the first request only.
    expect(access[1]!.timings.tq).toBe(0);
    expect(access[2]!.timings.tq).toBe(0);
    c.socket.destroy();
  });

  it('keep-alive requests one after another share the connection and each get their own trace', async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
      res.end('ok');
    });
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    for (let i = 1; i <= 3; i++) {
      c.socket.write(`GET /n${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await waitFor(() => `response ${i}`, () => parseResponses(c.received()).length === i, 5000);
    }
    await proxy.waitAccess(3);
    const access = proxy.access();
    expect(access.map((e) => e.request.uri)).toEqual(['/n1', '/n2', '/n3']);
    expect(new Set(access.map((e) => e.request.remote_port)).size).toBe(1);
    expect(access.every((e) => e.conn.feconn === 1)).toBe(true);
    c.socket.destroy();
  });

  it('bytes_sent counts exactly the bytes the client received for each response, chunked or not', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('first part;');
        res.write('second, longer part of the body;');
        res.end('end');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
      res.end('fixed');
    });
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /fixed HTTP/1.1\r\nHost: x\r\n\r\n');
    const access = await proxy.waitAccess(2);
    await waitFor('both responses', () => parseResponses(c.received()).length === 2, 5000);
    const responses = parseResponses(c.received());
    expect(responses[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(responses[0]!.body.toString()).toBe('first part;second, longer part of the body;end');
    expect(access[0]!.size).toBe(responses[0]!.body.length);
    expect(access[0]!.bytes_sent).toBe(responses[0]!.raw);
    expect(access[1]!.size).toBe(5);
    expect(access[1]!.bytes_sent).toBe(responses[1]!.raw);
    expect(access[0]!.bytes_sent + access[1]!.bytes_sent).toBe(c.received().length);
    c.socket.destroy();
  });

  it('counters at log time: connections of the process and forward, requests still in flight upstream', async () => {
    const releases = new Map<string, () => void>();
    upstream = await startUpstream((req, res) => releases.set(req.url!, () => res.end('done')));
    proxy = await startProxy({ target: { url: upstream.url } });
    const a = await rawClient(proxy.port);
    const b = await rawClient(proxy.port);
    a.socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    b.socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('both requests upstream', () => releases.size === 2, 5000);
    releases.get('/first')!();
    const [first] = await proxy.waitAccess(1);
    // Logged while the other exchange still waits on the upstream, both clients connected.
    expect(first!.conn).toEqual({ actconn: 2, feconn: 2, beconn: 1, srv_conn: 1, retries: 0 });
    b.socket.destroy();
    releases.get('/second')!();
    const [, second] = await proxy.waitAccess(2);
    expect(second!.conn.beconn).toBe(0);
    a.socket.destroy();
  });
});
