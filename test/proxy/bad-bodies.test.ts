import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type Harness } from './helpers.js';

/**
 * Request bodies a parser must refuse (issue 16 item 2): a broken chunked body or a transfer coding kflog cannot
 * forward is a malformed request — answered 400 or 501 as nginx does, logged once as `CR--` with the reason,
 * and never a client abort. Raw sockets on both sides, so nothing is tidied up by a client library.
 */

interface RawUpstream {
  server: Server;
  port: number;
  /** Every byte any connection sent the upstream. */
  received(): string;
}

/** An upstream that answers nothing and records every byte it receives. */
async function recordingUpstream(): Promise<RawUpstream> {
  let bytes = '';
  const server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, received: () => bytes };
}

/** Writes `request` and resolves with everything received until kflog closes the connection. */
async function send(port: number, request: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  socket.write(request);
  await closed;
  return response;
}

let proxy: Harness | undefined;
let upstream: RawUpstream | undefined;
afterEach(async () => {
  await proxy?.stop();
  upstream?.server.close();
  proxy = undefined;
  upstream = undefined;
});

async function start(): Promise<Harness> {
  upstream = await recordingUpstream();
  proxy = await startProxy({ target: { url: `http://127.0.0.1:${upstream.port}` } });
  return proxy;
}

const HEAD = 'POST /orders HTTP/1.1\r\nHost: x\r\n';

describe('malformed request bodies', () => {
  it.each([
    ['a chunk size that overflows', `${HEAD}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\nab\r\n0\r\n\r\n`, 400],
    ['chunk data without its CRLF', `${HEAD}Transfer-Encoding: chunked\r\n\r\n2\r\nabXY3\r\nabc\r\n0\r\n\r\n`, 400],
    ['an unknown transfer coding', `${HEAD}Transfer-Encoding: xchunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`, 501],
    ['gzip before chunked', `${HEAD}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`, 501],
  ])('%s is answered with its status and logged once as CR-- with the reason', async (_name, request, status) => {
    const p = await start();
    const response = await send(p.port, request);
    expect(response.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Implemented'}`);
    const [entry] = await p.waitAccess(1);
    expect(p.access()).toHaveLength(1);
    expect(entry!.status).toBe(status);
    expect(entry!.termination_state).toBe('CR--');
    expect(entry!.error).toMatch(/^malformed request: /);
    expect(entry!.request.method).toBe('POST');
    expect(upstream!.received()).toBe('');
  });
});
