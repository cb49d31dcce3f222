import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { KubeEvents } from '../../../src/proxy/kube/upstream.js';

/** A real HTTP server standing in for one pod's container port. */
export interface PodServer {
  readonly name: string;
  readonly port: number;
  /** TCP connections accepted so far (one per port-forward stream). */
  connections: number;
  close(): Promise<void>;
}

/**
 * Answers every request with {"pod", "method", "url", "bytes"} and an x-pod header; echoes POST bodies' size.
 * With `tls` (PEM file paths) the pod serves HTTPS, and its JSON also says the SNI name it was asked for.
 */
export async function startPodServer(name: string, tls?: { cert: string; key: string }): Promise<PodServer> {
  const handler: http.RequestListener = (req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.url?.startsWith('/bytes/')) {
        const n = Number(req.url.slice('/bytes/'.length));
        const body = Buffer.alloc(n, 'k');
        res.writeHead(200, { 'x-pod': name, 'content-type': 'application/octet-stream', 'content-length': n });
        res.end(body);
        return;
      }
      const sni = (req.socket as { servername?: string | false }).servername;
      const body = JSON.stringify({ pod: name, method: req.method, url: req.url, bytes, ...(tls ? { sni } : {}) });
      res.writeHead(200, { 'x-pod': name, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const server = tls ? https.createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : http.createServer(handler);
  // A client refusing the pod's certificate ends its handshake: the test's business, not an uncaught error.
  server.on('tlsClientError', () => undefined);
  const state = { connections: 0 };
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    get connections() {
      return state.connections;
    },
    set connections(v: number) {
      state.connections = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RecordedEvent {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

export function recorder(): KubeEvents & { events: RecordedEvent[] } {
  const events: RecordedEvent[] = [];
  return {
    events,
    emit(level, msg, fields) {
      events.push({ level, msg, fields });
    },
  };
}
