import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';

export interface Upstream {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** A real upstream HTTP server on a loopback port (0: a free one) answering with `handler`. */
export async function startUpstream(handler: RequestListener, port = 0): Promise<Upstream> {
  const server = createServer(handler);
  // Upgraded sockets are no longer the http server's: close() must end them itself.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    server,
    close: async () => {
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface RawUpstream {
  url: string;
  port: number;
  server: TcpServer;
  close(): Promise<void>;
}

/** A TCP upstream that does whatever `onConnection` does with the socket (misbehaving servers). */
export async function startRawUpstream(onConnection: (socket: Socket) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Reads one request head off a raw socket, then calls back (the body, if any, is left unread). */
export function onRequestHead(socket: Socket, cb: (head: string) => void): void {
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString('latin1');
    const end = buf.indexOf('\r\n\r\n');
    if (end !== -1) {
      socket.off('data', onData);
      cb(buf.slice(0, end));
    }
  };
  socket.on('data', onData);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A real HTTPS upstream on a loopback port with the given certificate (and, with `clientCa`, demanding a client's). */
export async function startHttpsUpstream(
  handler: RequestListener,
  tls: { cert: string; key: string; clientCa?: string },
): Promise<Upstream> {
  const server = createHttpsServer({
    cert: readFileSync(tls.cert),
    key: readFileSync(tls.key),
    ...(tls.clientCa !== undefined ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
  }, handler);
  // A client refused in the handshake is the test's business, not an uncaught error.
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${bound}`,
    port: bound,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
