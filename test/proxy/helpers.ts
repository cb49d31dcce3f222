import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { parseConfigText } from '../../src/config/load.js';
import type { Config, RawConfig, RawForward } from '../../src/config/types.js';
import type { AccessEntry, Entry, RequestEntry } from '../../src/core/entry.js';
import { registerEncoder } from '../../src/encoders/registry.js';
import { Kflog } from '../../src/kflog.js';

/**
 * Entries as the pipeline delivers them to a log: a test-only encoder keeps the typed entry (every field, even
 * those a text format leaves out) and writes nothing. Each harness has its own sink.
 */
const sinks = new Map<string, Entry[]>();
registerEncoder({
  name: 'test-collect',
  defaults: {},
  settings: (options) => String(options.sink),
  create: (name) => {
    const sink = sinks.get(name)!;
    return { encode: (entry: Entry) => (sink.push(entry), null) };
  },
});
let sinkSeq = 0;

export interface Harness {
  app: Kflog;
  /** http://127.0.0.1:port of the forward "f1". */
  url: string;
  port: number;
  entries: Entry[];
  access(): AccessEntry[];
  requests(): RequestEntry[];
  /** Waits until at least n access entries are in (deadline), and returns them. */
  waitAccess(n: number, ms?: number): Promise<AccessEntry[]>;
  stop(): Promise<void>;
}

export type ForwardSpec = Omit<RawForward, 'id' | 'listen'> & { id?: string; listen?: string };

/** A validated config whose forwards default to id "f1" on a free loopback port, plus a collecting log. */
export function buildConfig(forwards: ForwardSpec[], extra: Partial<RawConfig> = {}): { config: Config; entries: Entry[] } {
  const raw: RawConfig = {
    forwards: forwards.map((f, i) => ({ id: `f${i + 1}`, listen: '127.0.0.1:0', ...f })),
    logging: { logs: { default: { writer: { output: 'discard' }, encoder: { format: 'json' } } } },
    ...extra,
  };
  const config = withCollector(parseConfigText(JSON.stringify(raw), 'test'));
  return { config, entries: sinks.get(config.logs.at(-1)!.encoder.sink as string)! };
}

/** Starts kflog in-process from a validated config with one forward "f1" on a free port. */
export async function startProxy(forward: ForwardSpec, extra: Partial<RawConfig> = {}): Promise<Harness> {
  const { config, entries } = buildConfig([forward], extra);
  const app = await Kflog.start(config);
  const port = Number(app.address('f1').split(':').at(-1));
  const access = (): AccessEntry[] => entries.filter((e): e is AccessEntry => e.kind === 'access');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    entries,
    access,
    requests: () => entries.filter((e): e is RequestEntry => e.kind === 'request'),
    waitAccess: async (n, ms = 10_000) => {
      await until(() => access().length >= n, ms, () => `${access().length} of ${n} access entries`);
      return access();
    },
    stop: async () => {
      await app.stop(1000);
    },
  };
}

/**
 * Adds a collecting log (level debug, admits everything) to a resolved config. The collector keeps typed entries
 * in this thread's memory, so the config's pipeline runs on this thread (the log thread has its own registry).
 */
export function withCollector(config: Config): Config {
  config.logThread = false;
  const sink = `s${++sinkSeq}`;
  sinks.set(sink, []);
  config.logs.push({
    name: 'collect', writer: { output: 'discard' }, encoder: { format: 'test-collect', sink }, level: 'debug',
    include: [], exclude: [], logCredentials: true, queueBytes: 1 << 24, outputDeadlineMs: 5000,
  });
  return config;
}

/** Polls `cond` until true or the deadline; the failure says what was awaited. */
export async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Upstream {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

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
    waitFor: (text, ms = 10_000) => until(() => received().includes(text), ms, () => `"${text}" in ${JSON.stringify(received().toString('latin1').slice(0, 300))}`),
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
