import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForLines } from '../helpers/files.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';

/** An upstream that answers every request with a header named "__proto__", written byte for byte. */
async function hostileUpstream(): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        socket.write('HTTP/1.1 200 OK\r\n__proto__: from-upstream\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Sends a raw request and resolves with everything the proxy sent back before closing. */
async function rawRequest(address: string, request: string): Promise<string> {
  const [host, port] = address.split(':');
  const socket = connect(Number(port), host);
  socket.write(request);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  await once(socket, 'close');
  return response;
}

let proc: KflogProcess | undefined;
let upstream: Server | undefined;
afterEach(async () => {
  await proc?.stop();
  upstream?.close();
  proc = undefined;
  upstream = undefined;
});

describe('header names that Object.prototype already has', () => {
  it('a client and an upstream sending a "__proto__" header are served, and the header is logged like any other', async () => {
    upstream = await hostileUpstream();
    const port = (upstream.address() as AddressInfo).port;
    const started = await startKflog({
      forwards: [{ id: 'f1', listen: '127.0.0.1:0', target: { url: `http://127.0.0.1:${port}` } }],
      logging: {
        logs: {
          default: { exclude: ['http.log'] },
          json: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.json' }, encoder: { format: 'json' } },
          kftray: { include: ['http.log'], writer: { output: 'file', filename: 'kftray.log' }, encoder: { format: 'kftray' } },
        },
      },
    });
    proc = started.proc;
    const address = started.addresses.f1!;

    const first = await rawRequest(address, 'GET /one HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n__proto__: y\r\nConnection: close\r\n\r\n');
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(first.endsWith('\r\n\r\nok')).toBe(true);
    // Still serving: the first request did not take the process down.
    const second = await rawRequest(address, 'GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(second).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    const lines = await waitForLines(join(started.dir, 'access.json'), (l) => l.length >= 2);
    const entry = JSON.parse(lines[0]!) as { request: { uri: string; headers: Record<string, string[]> }; resp_headers: Record<string, string[]> };
    expect(entry.request.uri).toBe('/one');
    expect(Object.hasOwn(entry.request.headers, '__proto__')).toBe(true);
    expect(entry.request.headers['__proto__']).toEqual(['x', 'y']);
    expect(Object.hasOwn(entry.resp_headers, '__proto__')).toBe(true);
    expect(entry.resp_headers['__proto__']).toEqual(['from-upstream']);

    await waitForLines(join(started.dir, 'kftray.log'), (l) => l.filter((x) => x.startsWith('Trace ID:')).length >= 4);
    const kftray = readFileSync(join(started.dir, 'kftray.log'), 'utf8');
    expect(kftray).toContain('__proto__: x');
    expect(kftray).toContain('__proto__: from-upstream');
  });
});
