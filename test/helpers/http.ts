import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { request as undiciRequest } from 'undici';
import { waitFor } from './wait.js';

/** A raw client connection to the proxy; collects everything it receives. */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  closed: Promise<void>;
  waitFor(text: string, ms?: number): Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket,
    received,
    closed,
    waitFor: async (text, ms = 10_000) => {
      await waitFor(() => `"${text}" in ${JSON.stringify(received().toString('latin1').slice(0, 300))}`, () => received().includes(text), ms);
    },
  };
}

/** Splits raw HTTP/1.1 responses (Content-Length or chunked), as a client would. */
export function parseResponses(data: Buffer): Array<{ status: number; headers: Record<string, string>; body: Buffer; raw: number }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: Buffer; raw: number }> = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf('\r\n\r\n', pos);
    if (end === -1) break;
    const head = data.subarray(pos, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    let p = end + 4;
    let body: Buffer;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const nl = data.indexOf('\r\n', p);
        const n = parseInt(data.subarray(p, nl).toString('latin1'), 16);
        p = nl + 2;
        if (n === 0) {
          p += 2;
          break;
        }
        parts.push(data.subarray(p, p + n));
        p += n + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const n = Number(headers['content-length'] ?? 0);
      body = data.subarray(p, p + n);
      p += n;
    }
    out.push({ status, headers, body, raw: p - pos });
    pos = p;
  }
  return out;
}


/**
 * Writes `request` (latin1: one byte per char, so a test can send any byte) on a connection of its own, optionally
 * shuts the write side, and resolves with everything received until the connection closes.
 */
export async function exchange(address: string, request: string, opts: { halfClose?: boolean } = {}): Promise<string> {
  const [host, port] = address.split(':');
  const socket = connect(Number(port), host);
  socket.on('error', () => undefined);
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  if (opts.halfClose) socket.end(request, 'latin1');
  else socket.write(request, 'latin1');
  await closed;
  return response;
}

/** One GET on a connection of its own (no agent, no keep-alive): node:cluster hands each new one to the next process. */
export function getOnNewConnection(address: string, path: string): Promise<number> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET through undici's pooled client, its body read whole. */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await undiciRequest(url);
  return { status: res.statusCode, body: await res.body.text() };
}
