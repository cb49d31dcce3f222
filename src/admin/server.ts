import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { AdminConfig, Config } from '../config/types.js';
import { createEncoder } from '../encoders/registry.js';
import type { ExchangeTap } from '../emit/tap.js';
import { maskedConfig } from './config-view.js';
import { AdminGuard } from './guard.js';
import { metricsRegistry, type MetricsSource } from './metrics.js';
import { ExchangeStream } from './stream.js';

/** A request the API cannot answer as asked: its status and the one line it is told. */
export class AdminHttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The exchange store as the API reads it (the CLI hands it over: `kflog ls`'s filters live there). */
export interface ExchangeQueries {
  /** Newest first, filtered as `kflog ls` filters (forward, method, status, path, since, until, slower_than, grep, limit). */
  list(params: URLSearchParams): unknown[];
  /** One exchange by trace ID, undefined when the store has none. */
  one(traceId: string): unknown;
}

/** What the admin listener shows. */
export interface AdminSources {
  config(): Config;
  metrics: MetricsSource;
  /** The live access entries; undefined where this process does not see them (a cluster's primary). */
  tap?: ExchangeTap;
  /** undefined when no store log is configured. */
  exchanges?: ExchangeQueries;
}

/** Why the admin listener did not start: its default address was taken (the caller runs on without it). */
export class AdminAddressTaken extends Error {}

const TRACE_PATH = /^\/api\/exchanges\/([0-9A-Za-z-]{1,64})$/;

/** kflog's own HTTP listener: /metrics and the JSON API (docs in README "Admin API and metrics"). */
export class AdminServer {
  private readonly registry: Registry;
  private readonly stream: ExchangeStream | undefined;
  private guard: AdminGuard | undefined;
  private readonly server: Server;

  private constructor(private readonly cfg: AdminConfig, private readonly sources: AdminSources) {
    this.registry = metricsRegistry(sources.metrics);
    // The stream carries entries as the json format writes them, credentials redacted as in every log by default.
    this.stream = sources.tap && new ExchangeStream(sources.tap, createEncoder({ format: 'json' }, { logCredentials: false, isTTY: false }));
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  /**
   * Listens on the configured address. Rejects with AdminAddressTaken when the default address is in use, and
   * with an Error naming the address when one the config wrote cannot be bound.
   */
  static async start(cfg: AdminConfig, sources: AdminSources): Promise<AdminServer> {
    const admin = new AdminServer(cfg, sources);
    await new Promise<void>((resolve, reject) => {
      admin.server.once('error', (err: NodeJS.ErrnoException) => {
        const where = cfg.host.includes(':') ? `[${cfg.host}]:${cfg.port}` : `${cfg.host}:${cfg.port}`;
        if (err.code === 'EADDRINUSE' && !cfg.explicit) {
          reject(new AdminAddressTaken(`admin listener: ${where} is in use (another kflog?); running without it (set "admin": { "listen": … } to choose another address)`));
          return;
        }
        const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'address not available on this machine' : err.message;
        reject(new Error(`cannot listen on ${where} for the admin listener (admin.listen): ${why}`));
      });
      admin.server.listen({ host: cfg.host || undefined, port: cfg.port }, resolve);
    });
    admin.guard = new AdminGuard(cfg, admin.port);
    return admin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Where to reach it: http://127.0.0.1:2019 */
  get url(): string {
    const host = this.cfg.host === '' || this.cfg.host === '0.0.0.0' ? '127.0.0.1' : this.cfg.host === '::' ? '[::1]' : this.cfg.host.includes(':') ? `[${this.cfg.host}]` : this.cfg.host;
    return `http://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    this.stream?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Streams never end on their own: cut them, and any idle keep-alive connection.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const refused = this.guard!.check(req);
      if (refused !== undefined) {
        const headers: Record<string, string> = refused.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="kflog admin"' } : {};
        this.json(res, refused.status, { error: refused.reason }, headers);
        return;
      }
      await this.route(req, res);
    } catch (err) {
      if (err instanceof AdminHttpError) this.json(res, err.status, { error: err.message });
      else this.json(res, 500, { error: (err as Error).message });
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const known = path === '/metrics' || path.startsWith('/api/') && (['/api/health', '/api/config', '/api/exchanges', '/api/stream'].includes(path) || TRACE_PATH.test(path));
    if (!known) throw new AdminHttpError(404, `no such path: ${path} (see /api/health, /api/config, /api/exchanges, /api/stream, /metrics)`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new AdminHttpError(405, `${path} answers GET only`);
    }
    if (path === '/metrics') {
      await this.sources.metrics.refresh?.();
      const text = await this.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    } else if (path === '/api/health') {
      this.json(res, 200, { status: 'ok', pid: process.pid, uptime_seconds: Math.round(process.uptime()) });
    } else if (path === '/api/config') {
      this.json(res, 200, maskedConfig(this.sources.config()));
    } else if (path === '/api/stream') {
      if (this.stream === undefined) throw new AdminHttpError(404, 'this process does not see the exchanges live (listener_processes > 1)');
      this.stream.open(res);
    } else {
      const store = this.sources.exchanges;
      if (store === undefined) throw new AdminHttpError(404, 'no store log is configured (a log with "writer": { "output": "store" })');
      const trace = TRACE_PATH.exec(path)?.[1];
      if (trace === undefined) {
        this.json(res, 200, { exchanges: store.list(url.searchParams) });
        return;
      }
      const one = store.one(trace);
      if (one === undefined) throw new AdminHttpError(404, `no exchange with trace ID ${trace} in the store`);
      this.json(res, 200, one);
    }
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body) + '\n';
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    res.end(text);
  }
}
