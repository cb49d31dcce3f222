import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForLines } from '../helpers/files.js';
import { exchange } from '../helpers/http.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { startRawUpstream, type RawUpstream } from '../helpers/upstream.js';

/** An upstream that answers every request with a header named "__proto__", written byte for byte. */
function hostileUpstream(): Promise<RawUpstream> {
  return startRawUpstream((socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        socket.write('HTTP/1.1 200 OK\r\n__proto__: from-upstream\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
}

let proc: KflogProcess | undefined;
let upstream: RawUpstream | undefined;
afterEach(async () => {
  await proc?.stop();
  await upstream?.close();
  proc = undefined;
  upstream = undefined;
});

describe('header names that Object.prototype already has', () => {
  it('a client and an upstream sending a "__proto__" header are served, and the header is logged like any other', async () => {
    upstream = await hostileUpstream();
    const port = upstream.port;
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

    const first = await exchange(address, 'GET /one HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n__proto__: y\r\nConnection: close\r\n\r\n');
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(first.endsWith('\r\n\r\nok')).toBe(true);
    // Still serving: the first request did not take the process down.
    const second = await exchange(address, 'GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
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
