import { createHash } from 'node:crypto';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { BodyCapture, decodableCoding } from '../../src/proxy/capture.js';
import { rawClient } from '../helpers/http.js';
import { readBody, startUpstream, type Upstream } from '../helpers/upstream.js';
import { startProxy, type Harness } from './helpers.js';

function feed(capture: BodyCapture, data: Buffer, chunk = 1000): void {
  for (let i = 0; i < data.length; i += chunk) capture.add(data.subarray(i, i + chunk));
}

const JSON_DOC = Buffer.from(JSON.stringify(Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `user ${i}`, tags: ['a', 'b'] }))));

describe('BodyCapture, the streaming tee', () => {
  it('keeps at most max bytes, counts them all and flags the truncation', () => {
    const c = new BodyCapture(10, 'text/plain', undefined);
    feed(c, Buffer.from('0123456789abcdefghij'), 3);
    const r = c.result();
    expect(r).toEqual({ bytes: 20, truncated: true, content_type: 'text/plain', text: '0123456789' });
  });

  it('holds no more than max bytes however much flows through it', () => {
    const c = new BodyCapture(4096, undefined, undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x7a);
    for (let i = 0; i < 1600; i++) c.add(chunk); // 100 MiB
    expect(c.keptBytes).toBe(4096);
    expect(c.total).toBe(1600 * 64 * 1024);
    expect(c.result().text).toBe('z'.repeat(4096));
  });

  it('an untruncated body is kept whole and not flagged', () => {
    const c = new BodyCapture(100, 'application/json', undefined);
    c.add(Buffer.from('{"a":1}'));
    expect(c.result()).toEqual({ bytes: 7, truncated: false, content_type: 'application/json', text: '{"a":1}' });
  });

  it('decodes gzip, br and deflate (zlib or raw) for the log and says so', () => {
    const small = Buffer.from('{"users":[{"id":1,"name":"John"}]}');
    for (const [coding, data] of [
      ['gzip', gzipSync(small)], ['br', brotliCompressSync(small)], ['deflate', deflateSync(small)], ['deflate', deflateRawSync(small)],
    ] as const) {
      const c = new BodyCapture(1000, 'application/json', decodableCoding(coding));
      c.add(data);
      expect(c.result(), coding).toEqual({
        bytes: data.length, truncated: false, content_type: 'application/json', decoded_from: coding, text: small.toString(),
      });
    }
  });

  it('a truncated compressed prefix still decodes to the start of the document', () => {
    const gz = gzipSync(JSON_DOC);
    const c = new BodyCapture(Math.floor(gz.length / 3), 'application/json', 'gzip');
    feed(c, gz, 4096);
    const r = c.result();
    expect(r.truncated).toBe(true);
    expect(r.bytes).toBe(gz.length);
    expect(r.decoded_from).toBe('gzip');
    expect(r.text!.length).toBeGreaterThan(1000);
    expect(JSON_DOC.toString().startsWith(r.text!)).toBe(true);
  });

  it('a decompression bomb decodes to at most max bytes', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024)); // 50 MiB of zeros, ~50 KB compressed
    const max = 16384;
    const c = new BodyCapture(max, 'application/octet-stream', 'gzip');
    feed(c, bomb, 16384);
    const t0 = performance.now();
    const r = c.result();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.truncated).toBe(true);
    expect(r.decoded_from).toBe('gzip');
    expect(Buffer.from(r.base64!, 'base64').length).toBeLessThanOrEqual(max);
    expect(Buffer.from(r.base64!, 'base64').length).toBeGreaterThan(max / 4);
  });

  it('a body that is not what its Content-Encoding says is logged as the bytes sent', () => {
    const c = new BodyCapture(100, 'text/plain', 'gzip');
    c.add(Buffer.from('plain, not gzip'));
    const r = c.result();
    expect(r.decoded_from).toBeUndefined();
    expect(r.text).toBe('plain, not gzip');
  });

  it('a multi-byte character cut by the limit does not turn the text into base64', () => {
    const c = new BodyCapture(4, 'text/plain', undefined);
    c.add(Buffer.from('abcé')); // é is 2 bytes: only its first fits
    expect(c.result()).toMatchObject({ text: 'abc', truncated: true, bytes: 5 });
  });

  it('binary bodies are kept as base64', () => {
    const c = new BodyCapture(100, 'image/png', undefined);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    c.add(png);
    expect(c.result()).toEqual({ bytes: 10, truncated: false, content_type: 'image/png', base64: png.toString('base64') });
  });

  it('unknown or stacked codings are not decoded', () => {
    expect(decodableCoding('zstd')).toBeUndefined();
    expect(decodableCoding('gzip, br')).toBeUndefined();
    expect(decodableCoding(' GZIP ')).toBe('gzip');
  });
});

let proxy: Harness | undefined;
let upstream: Upstream | undefined;
afterEach(async () => {
  await proxy?.stop();
  await upstream?.close();
  proxy = undefined;
  upstream = undefined;
});

const CAPTURE = { request_body: true, response_body: true, max_body_bytes: 65536 };

describe('bodies through the proxy', () => {
  it('content-length and chunked responses are relayed whole and captured byte-exact', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON_DOC.subarray(0, 30000));
        res.end(JSON_DOC.subarray(30000));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': JSON_DOC.length });
        res.end(JSON_DOC);
      }
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: { ...CAPTURE, max_body_bytes: 1 << 20 } });
    for (const path of ['/chunked', '/fixed']) {
      const res = await request(proxy.url + path);
      expect(Buffer.from(await res.body.arrayBuffer()).equals(JSON_DOC)).toBe(true);
    }
    const [chunked, fixed] = await proxy.waitAccess(2);
    for (const e of [chunked!, fixed!]) {
      expect(e.size).toBe(JSON_DOC.length);
      expect(e.resp_body).toEqual({ bytes: JSON_DOC.length, truncated: false, content_type: 'application/json', text: JSON_DOC.toString() });
    }
  });

  it('a body larger than max_body_bytes is relayed whole, its prefix captured exactly and the rest counted', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = 0x41 + (i % 26);
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': big.length });
      res.end(big);
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: { ...CAPTURE, max_body_bytes: 1000 } });
    const res = await request(proxy.url + '/big');
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    const [e] = await proxy.waitAccess(1);
    expect(e!.size).toBe(big.length);
    expect(e!.resp_body).toEqual({ bytes: big.length, truncated: true, content_type: 'text/plain', text: big.subarray(0, 1000).toString() });
  });

  it('HEAD, 204 and 304 responses have no body: size 0 and nothing captured', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/204') res.writeHead(204).end();
      else if (req.url === '/304') res.writeHead(304, { ETag: '"x"' }).end();
      else res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 34 }).end(req.method === 'HEAD' ? undefined : '{"users":[{"id":1,"name":"John"}]}');
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: CAPTURE });
    const head = await request(proxy.url + '/users', { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('34');
    await head.body.dump();
    for (const p of ['/204', '/304']) await (await request(proxy.url + p)).body.dump();
    const entries = await proxy.waitAccess(3);
    expect(entries.map((e) => [e.status, e.size, e.resp_body])).toEqual([[200, 0, undefined], [204, 0, undefined], [304, 0, undefined]]);
    expect(entries[0]!.resp_headers['Content-Length']).toEqual(['34']);
  });

  it('a request body is streamed upstream, counted in bytes_read and captured', async () => {
    upstream = await startUpstream(async (req, res) => {
      const body = await readBody(req);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 }).end(String(body.length).slice(0, 2));
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: { ...CAPTURE, max_body_bytes: 16 } });
    const payload = '{"name":"Jane","role":"admin"}';
    const res = await request(proxy.url + '/users', { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    expect(await res.body.text()).toBe('30');
    const [e] = await proxy.waitAccess(1);
    expect(e!.bytes_read).toBe(30);
    expect(e!.request.body).toEqual({ bytes: 30, truncated: true, content_type: 'application/json', text: payload.slice(0, 16) });
  });

  it('a chunked request body is forwarded and counted', async () => {
    let seen = 0;
    upstream = await startUpstream(async (req, res) => {
      seen = (await readBody(req)).length;
      res.end('ok');
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: CAPTURE });
    const c = await rawClient(proxy.port);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    await c.waitFor('ok');
    const [e] = await proxy.waitAccess(1);
    expect(seen).toBe(11);
    expect(e!.bytes_read).toBe(11);
    expect(e!.request.body?.text).toBe('hello world');
    c.socket.destroy();
  });

  it('an upstream answering before the upload ends has its answer relayed and the exchange ends normally', async () => {
    upstream = await startUpstream((_req, res) => res.writeHead(413, { 'Content-Length': 8 }).end('too big!'));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n' + 'x'.repeat(100_000));
    await c.waitFor('too big!');
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(413);
    expect(e!.termination_state).toBe('----');
    expect(e!.bytes_sent).toBe(c.received().length);
    c.socket.destroy();
  });

  it('Expect: 100-continue is answered, the body forwarded, and the interim response counted in bytes_sent', async () => {
    upstream = await startUpstream(async (req, res) => res.end(String((await readBody(req)).length)));
    proxy = await startProxy({ target: { url: upstream.url } });
    const c = await rawClient(proxy.port);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await c.waitFor('HTTP/1.1 100 Continue\r\n\r\n');
    c.socket.write('hello');
    await c.waitFor('\r\n\r\n5');
    const [e] = await proxy.waitAccess(1);
    expect(e!.status).toBe(200);
    expect(e!.bytes_read).toBe(5);
    expect(e!.bytes_sent).toBe(c.received().length);
    c.socket.destroy();
  });

  it('a gzip response reaches the client untouched and is logged decoded', async () => {
    const gz = gzipSync(JSON_DOC);
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
      res.end(gz);
    });
    proxy = await startProxy({ target: { url: upstream.url }, capture: { ...CAPTURE, max_body_bytes: 1 << 20 } });
    const res = await request(proxy.url + '/users', { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(Buffer.from(await res.body.arrayBuffer()).equals(gz)).toBe(true);
    const [e] = await proxy.waitAccess(1);
    expect(e!.size).toBe(gz.length);
    expect(e!.resp_body).toEqual({
      bytes: gz.length, truncated: false, content_type: 'application/json', decoded_from: 'gzip', text: JSON_DOC.toString(),
    });
  });

  it('with capture off no body is kept', async () => {
    proxy = await startProxy({ target: { builtin: 'echo' } });
    await (await request(proxy.url + '/echo', { method: 'POST', body: 'hello' })).body.dump();
    const [e] = await proxy.waitAccess(1);
    expect(e!.bytes_read).toBe(5);
    expect(e!.size).toBe(5);
    expect(e!.request.body).toBeUndefined();
    expect(e!.resp_body).toBeUndefined();
  });
});
