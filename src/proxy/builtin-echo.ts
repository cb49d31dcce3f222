import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const USERS = Buffer.from('{"users":[{"id":1,"name":"John"}]}');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * The embedded sample API, so kflog runs with no cluster and no upstream (the demo, the tests, the benchmarks):
 * GET /api/users, POST /echo, GET /status/:code, GET /bytes/:n, GET /delay/:ms.
 */
export class BuiltinEcho {
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer({ keepAliveTimeout: 65_000 }, handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // exclusive: in a listener process of a cluster, each process answers on its own port, not through the primary.
      server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/api/users' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': USERS.length });
    res.end(req.method === 'HEAD' ? undefined : USERS);
    return;
  }
  if (path === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, {
        'Content-Type': req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': body.length,
      });
      res.end(body);
    });
    return;
  }
  let m = /^\/status\/(\d{3})$/.exec(path);
  if (m) {
    const code = Number(m[1]);
    if (code < 200 || code > 599) return plain(res, 400, 'status must be 200-599\n');
    if (code === 204 || code === 304) {
      res.writeHead(code);
      res.end();
      return;
    }
    return plain(res, code, `status ${code}\n`);
  }
  m = /^\/bytes\/(\d+)$/.exec(path);
  if (m) return sendBytes(res, Number(m[1]));
  m = /^\/delay\/(\d+)$/.exec(path);
  if (m) {
    const ms = Math.min(Number(m[1]), 600_000);
    const timer = setTimeout(() => plain(res, 200, `delayed ${ms} ms\n`), ms);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  plain(res, 404, 'not found\n');
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Streams n bytes with backpressure, so /bytes/1073741824 costs no memory. */
function sendBytes(res: ServerResponse, n: number): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
  let left = n;
  const pump = (): void => {
    while (left > 0) {
      const size = Math.min(left, CHUNK.length);
      left -= size;
      const ok = res.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size));
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}
