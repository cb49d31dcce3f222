import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForLines } from '../helpers/files.js';
import { exchange } from '../helpers/http.js';
import { startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { startRawUpstream, type RawUpstream } from '../helpers/upstream.js';
import { waitFor } from '../helpers/wait.js';

/**
 * HTTP edge cases a debugging proxy must answer and log truthfully (issue 16), driven through a real kflog process
 * with raw sockets on both sides, and judged from the log files kflog really wrote.
 */

interface HeadsUpstream extends RawUpstream {
  /** Request heads received, in order. */
  heads: string[];
}

/** A raw TCP upstream: for each request head it gets, `answer` writes whatever bytes it likes. */
async function rawUpstream(answer: (socket: Socket, head: string) => void): Promise<HeadsUpstream> {
  const heads: string[] = [];
  const upstream = await startRawUpstream((socket) => {
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (length) buf = buf.slice(Number(length[1])); // bodies are small and arrive with the head here
        heads.push(head);
        answer(socket, head);
      }
    });
  });
  return { ...upstream, heads };
}

interface AccessJson {
  level: string;
  status: number;
  bytes_sent: number;
  size: number;
  termination_state: string;
  error?: string;
  request: { method: string; uri: string; proto: string; host: string };
}

let proc: KflogProcess | undefined;
let upstream: HeadsUpstream | undefined;
afterEach(async () => {
  await proc?.stop();
  await upstream?.close();
  proc = undefined;
  upstream = undefined;
});

/** kflog with one forward to `port`, writing its access log as json, logfmt, clf and kftray files. */
async function startWithLogs(port: number, forward: Record<string, unknown> = {}) {
  const started = await startKflog({
    forwards: [{ id: 'f1', listen: '127.0.0.1:0', target: { url: `http://127.0.0.1:${port}` }, ...forward }],
    logging: {
      logs: {
        default: { exclude: ['http.log'] },
        json: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.json' }, encoder: { format: 'json' } },
        logfmt: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.logfmt' }, encoder: { format: 'logfmt' } },
        clf: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.clf' }, encoder: { format: 'clf' } },
        kftray: { include: ['http.log.access'], writer: { output: 'file', filename: 'access.kftray' }, encoder: { format: 'kftray' } },
      },
    },
  });
  proc = started.proc;
  return started;
}

/** Stops kflog (every log flushed) and returns the json access entries, checking each format has as many. */
async function accessEntries(dir: string, n: number): Promise<AccessJson[]> {
  await waitForLines(join(dir, 'access.json'), (l) => l.length >= n);
  await proc!.stop();
  const json = await waitForLines(join(dir, 'access.json'), () => true);
  expect(json).toHaveLength(n);
  expect(await waitForLines(join(dir, 'access.logfmt'), () => true)).toHaveLength(n);
  expect(await waitForLines(join(dir, 'access.clf'), () => true)).toHaveLength(n);
  const kftray = await waitForLines(join(dir, 'access.kftray'), () => true);
  expect(kftray.filter((l) => l.startsWith('Response at:'))).toHaveLength(n);
  return json.map((l) => JSON.parse(l) as AccessJson);
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

describe('half-closed clients', () => {
  it('a client that shuts its write side after its request still gets the response, logged as sent', async () => {
    upstream = await rawUpstream((s) => setImmediate(() => s.write(OK)));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET /hc HTTP/1.0\r\n\r\n', { halfClose: true });
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(200);
    expect(e!.termination_state).toBe('----');
    expect(e!.bytes_sent).toBe(Buffer.byteLength(got, 'latin1'));
  });

  it('a half-closed POST runs upstream once and its response reaches the client', async () => {
    upstream = await rawUpstream((s) => s.write(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'POST /job HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc', { halfClose: true });
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(got.endsWith('hello')).toBe(true);
    expect(upstream.heads).toHaveLength(1);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(200);
    expect(e!.termination_state).toBe('----');
  });

  it('with abort_on_close a half-closed client aborts the upstream request and is logged CH-- with nothing sent', async () => {
    let upstreamSocketClosed = false;
    upstream = await rawUpstream((s) => s.once('close', () => (upstreamSocketClosed = true))); // never answers
    const { addresses, dir } = await startWithLogs(upstream.port, { abort_on_close: true });
    const [host, port] = addresses.f1!.split(':');
    const client = connect(Number(port), host);
    let got = '';
    client.on('data', (d: Buffer) => (got += d.toString('latin1')));
    const closed = once(client, 'close');
    client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the request to reach the upstream', () => upstream!.heads.length === 1);
    client.end(); // FIN while the upstream works on it
    await closed;
    expect(got).toBe('');
    const [e] = await accessEntries(dir, 1);
    expect(e!.termination_state).toBe('CH--');
    expect(e!.status).toBe(0);
    expect(e!.bytes_sent).toBe(0);
    expect(e!.error).toMatch(/client closed/);
    expect(upstream.heads).toHaveLength(1);
    await waitFor('the upstream request to be aborted', () => upstreamSocketClosed);
  });
});

describe('HTTP/1.1 without Host', () => {
  it('is answered 400 by kflog and logged once as a malformed request, the upstream getting nothing', async () => {
    upstream = await rawUpstream((s) => s.write(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET /nohost HTTP/1.1\r\nUser-Agent: raw\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(got).toMatch(/\r\nConnection: close\r\n/i);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(400);
    expect(e!.termination_state).toBe('CR--');
    expect(e!.error).toMatch(/Host/);
    expect(e!.request).toMatchObject({ method: 'GET', uri: '/nohost', proto: 'HTTP/1.1', host: '' });
    expect(e!.bytes_sent).toBe(Buffer.byteLength(got, 'latin1'));
    expect(upstream.heads).toHaveLength(0);
  });

  it('HTTP/1.0 without Host is still forwarded', async () => {
    upstream = await rawUpstream((s) => s.end(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET /old HTTP/1.0\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(200);
    expect(upstream.heads).toHaveLength(1);
  });
});

describe('interim responses from the upstream', () => {
  const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

  it('an upstream 100 Continue before its final response is not a 502: a client that sent Expect gets one 100, then the response', async () => {
    upstream = await rawUpstream((s) => s.write(CONTINUE + OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!,
      'POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    expect(got.startsWith(CONTINUE)).toBe(true);
    expect(got.split('100 Continue')).toHaveLength(2); // exactly one
    expect(got.slice(CONTINUE.length)).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(200);
    expect(e!.termination_state).toBe('----');
    expect(e!.size).toBe(5);
    expect(e!.bytes_sent).toBe(Buffer.byteLength(got, 'latin1'));
  });

  it('an upstream 100 Continue is dropped for a client that did not send Expect, on every request of a kept-alive upstream connection', async () => {
    upstream = await rawUpstream((s) => s.write(CONTINUE + OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const first = await exchange(addresses.f1!, 'GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const second = await exchange(addresses.f1!, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    for (const got of [first, second]) {
      expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
      expect(got).not.toContain('100 Continue');
    }
    const entries = await accessEntries(dir, 2);
    expect(entries.map((e) => [e.request.uri, e.status, e.termination_state])).toEqual([['/a', 200, '----'], ['/b', 200, '----']]);
  });

  it('103 Early Hints, then 100, then the final response: the final response is delivered and logged', async () => {
    upstream = await rawUpstream((s) => {
      s.write('HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n');
      setImmediate(() => s.write(CONTINUE.slice(0, 7)));
      setTimeout(() => s.write(CONTINUE.slice(7) + OK), 20); // a 100 split across reads
    });
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET /hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(got).toMatch(/HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(200);
    expect(e!.termination_state).toBe('----');
  });

  it('a response body that looks like a 100 Continue is relayed untouched', async () => {
    const body = CONTINUE + 'tail';
    upstream = await rawUpstream((s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      setTimeout(() => s.write(body), 20);
    });
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(got.endsWith('\r\n\r\n' + body)).toBe(true);
    const [e] = await accessEntries(dir, 1);
    expect(e!.size).toBe(body.length);
  });
});

describe('questionable requests, decided', () => {
  it('an HTTP/0.9 request is answered 400 and logged as a malformed request, the upstream getting nothing', async () => {
    upstream = await rawUpstream((s) => s.write(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    // node's parser takes a version-less line as HTTP/0.9 once a blank line follows it.
    const got = await exchange(addresses.f1!, 'GET /a\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(400);
    expect(e!.termination_state).toBe('CR--');
    expect(e!.error).toMatch(/HTTP\/0\.9/);
    expect(upstream.heads).toHaveLength(0);
  });

  it('header bytes that are not UTF-8 are U+FFFD in json and logfmt and \\xHH in kftray, never mistaken for real text', async () => {
    // The same two headers each way: json and logfmt show the request's, kftray (access only here) the response's.
    const stray = Buffer.concat([Buffer.from('X-Stray: '), Buffer.from([0xff, 0xfe]), Buffer.from('\r\nX-Real: ÿþ\r\n')]);
    upstream = await rawUpstream((s) => s.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), stray, Buffer.from('Content-Length: 0\r\n\r\n')])));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const head = Buffer.concat([
      Buffer.from('GET /bytes HTTP/1.1\r\nHost: x\r\nX-Stray: '), Buffer.from([0xff, 0xfe]),
      Buffer.from('\r\nX-Real: '), Buffer.from('ÿþ', 'utf8'), Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    const got = await exchange(addresses.f1!, head.toString('latin1'));
    expect(got).toMatch(/^HTTP\/1\.1 200 OK/);
    const [e] = await accessEntries(dir, 1);
    const headers = (e as unknown as { request: { headers: Record<string, string[]> } }).request.headers;
    expect(headers['X-Stray']).toEqual(['\ufffd\ufffd']);
    expect(headers['X-Real']).toEqual(['ÿþ']);
    const logfmt = readFileSync(join(dir, 'access.logfmt'), 'utf8');
    expect(logfmt).toContain('request.headers.X-Stray="\ufffd\ufffd"');
    expect(logfmt).toContain(' request.headers.X-Real=ÿþ ');
    const kftray = readFileSync(join(dir, 'access.kftray'), 'utf8');
    expect(kftray).toContain('X-Stray: \\xFF\\xFE\n');
    expect(kftray).toContain('X-Real: ÿþ\n');
  });

  it('an absolute-form request is forwarded in origin form, as nginx does, and logged as the client sent it', async () => {
    upstream = await rawUpstream((s) => s.write(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'GET http://other.example/orders?id=7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(upstream.heads[0]!.split('\r\n')[0]).toBe('GET /orders?id=7 HTTP/1.1');
    const [e] = await accessEntries(dir, 1);
    expect(e!.request.uri).toBe('http://other.example/orders?id=7');
    expect(e!.status).toBe(200);
  });

  it('OPTIONS * is answered 501 by kflog and logged once as refused by the proxy', async () => {
    upstream = await rawUpstream((s) => s.write(OK));
    const { addresses, dir } = await startWithLogs(upstream.port);
    const got = await exchange(addresses.f1!, 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/);
    const [e] = await accessEntries(dir, 1);
    expect(e!.status).toBe(501);
    expect(e!.termination_state).toBe('PR--');
    expect(e!.level).toBe('error');
    expect(e!.request).toMatchObject({ method: 'OPTIONS', uri: '*' });
    expect(upstream.heads).toHaveLength(0);
  });
});
