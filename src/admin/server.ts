import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { AdminConfig, Config } from '../config/types.js';
import { createEncoder } from '../encoders/registry.js';
import type { ExchangeTap } from '../emit/tap.js';
import type { ExchangeJson, ReplayAnswer, ReplayAsked } from './api-types.js';
import { maskedConfig } from './config-view.js';
import { AdminGuard, requestUrl } from './guard.js';
import { metricsRegistry, type MetricsSource } from './metrics.js';
import { StaticFiles, VIEWER_ROOT } from './static-files.js';
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
  list(params: URLSearchParams): ExchangeJson[];
  /** One exchange by trace ID, undefined when the store has none. */
  one(traceId: string): ExchangeJson | undefined;
  /** `kflog show --curl` of one exchange; undefined when the store has none. */
  curl(traceId: string): string | undefined;
  /** `kflog replay` of one exchange, through its forward; undefined when the store has none. */
  replay(traceId: string, asked: ReplayAsked): Promise<ReplayAnswer | undefined>;
  /** `kflog export --har` of the exchanges `list`'s filters select (the newest 1,000 unless a limit is given), or of `trace=` IDs; the count written. */
  har(params: URLSearchParams, write: (text: string) => void): number;
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

const TRACE_PATH = /^\/api\/exchanges\/([0-9A-Za-z-]{1,64})(\/curl|\/replay)?$/;
const API_PATHS = ['/api/health', '/api/config', '/api/exchanges', '/api/stream', '/api/har', '/api/clear'];
/** A replay's JSON body: edited headers and a body of at most a forward's default capture, with room to spare. */
const MAX_REPLAY_BODY = 2 * 1024 * 1024;
/** Reading it: a same-origin page sends it at once. */
const REPLAY_BODY_MS = 10_000;

/** The replay edits a POST sent, or a 400 saying what is wrong with them. */
function replayAsked(text: string): ReplayAsked {
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new AdminHttpError(400, 'expected a JSON object: { "headers": ["Name: value"], "body": "…", "force": false }, each optional');
  }
  const { headers = [], body, force = false } = (doc ?? {}) as { headers?: unknown; body?: unknown; force?: unknown };
  if (!Array.isArray(headers) || !headers.every((h) => typeof h === 'string')) throw new AdminHttpError(400, 'headers: expected an array of "Name: value" strings');
  if (body !== undefined && typeof body !== 'string') throw new AdminHttpError(400, 'body: expected a string');
  if (typeof force !== 'boolean') throw new AdminHttpError(400, 'force: expected true or false');
  return { headers: headers as string[], ...(body !== undefined ? { body } : {}), force };
}

/** A request's body as text, refused past `max` bytes or when it does not arrive within `ms`. */
function readBody(req: IncomingMessage, max: number, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      reject(new AdminHttpError(408, `the request body did not arrive within ${ms / 1000} s`));
      req.destroy();
    }, ms);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        clearTimeout(timer);
        reject(new AdminHttpError(413, `the request body is over ${max} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** kflog's own HTTP listener: /metrics and the JSON API (docs in README "Admin API and metrics"). */
export class AdminServer {
  private readonly registry: Registry;
  private readonly stream: ExchangeStream | undefined;
  private guard: AdminGuard | undefined;
  /** When the viewer's Clear was last pressed (epoch ms): lists start there (sinceClear). */
  private clearedAt: number | undefined;
  private readonly server: Server;
  private readonly viewer: StaticFiles;

  private constructor(private readonly cfg: AdminConfig, private readonly sources: AdminSources, viewerRoot: string) {
    this.viewer = new StaticFiles(viewerRoot);
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
  static async start(cfg: AdminConfig, sources: AdminSources, viewerRoot = VIEWER_ROOT): Promise<AdminServer> {
    const admin = new AdminServer(cfg, sources, viewerRoot);
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
    const url = requestUrl(req);
    const path = url.pathname;
    const api = path === '/metrics' || path.startsWith('/api/');
    if (!api) {
      if ((req.method === 'GET' || req.method === 'HEAD') && this.viewer.serve(req, res, path)) return;
      if (path === '/' && !this.viewer.built) throw new AdminHttpError(404, `the viewer is not built in ${this.viewer.root} (npm run build); the API is at /api/`);
    }
    const known = path === '/metrics' || API_PATHS.includes(path) || TRACE_PATH.test(path);
    if (!known) throw new AdminHttpError(404, `no such path: ${path} (see /, /api/health, /api/config, /api/exchanges, /api/stream, /api/har, /api/clear, /metrics)`);
    if (path === '/api/clear') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new AdminHttpError(405, `${path} answers POST only`);
      }
      this.clearedAt = Date.now();
      this.json(res, 200, { cleared_at: new Date(this.clearedAt).toISOString() });
      return;
    }
    const traceMatch = TRACE_PATH.exec(path);
    if (traceMatch?.[2] === '/replay') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        throw new AdminHttpError(405, `${path} answers POST only`);
      }
      const asked = replayAsked(await readBody(req, MAX_REPLAY_BODY, REPLAY_BODY_MS));
      const answer = await this.store().replay(traceMatch[1]!, asked);
      if (answer === undefined) throw new AdminHttpError(404, `no exchange with trace ID ${traceMatch[1]} in the store`);
      this.json(res, 200, answer);
      return;
    }
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
    } else if (path === '/api/har') {
      this.har(res, this.sinceClear(url.searchParams));
    } else {
      const store = this.store();
      const trace = traceMatch?.[1];
      if (trace === undefined) {
        this.json(res, 200, { exchanges: store.list(this.sinceClear(url.searchParams)) });
        return;
      }
      const missing = `no exchange with trace ID ${trace} in the store`;
      if (traceMatch?.[2] === '/curl') {
        const curl = store.curl(trace);
        if (curl === undefined) throw new AdminHttpError(404, missing);
        this.text(res, 200, 'text/plain; charset=utf-8', curl);
        return;
      }
      const one = store.one(trace);
      if (one === undefined) throw new AdminHttpError(404, missing);
      this.json(res, 200, one);
    }
  }

  /**
   * A list's filters as the viewer sees the store: after a Clear (POST /api/clear), from the moment of the clear
   * unless the request names its own `since` or trace IDs. Nothing is deleted: `kflog ls` still lists it all.
   */
  private sinceClear(params: URLSearchParams): URLSearchParams {
    if (this.clearedAt === undefined || params.has('since') || params.has('trace')) return params;
    const cleared = new URLSearchParams(params);
    cleared.set('since', new Date(this.clearedAt).toISOString());
    return cleared;
  }

  private store(): ExchangeQueries {
    const store = this.sources.exchanges;
    if (store === undefined) throw new AdminHttpError(404, 'no store log is configured (a log with "writer": { "output": "store" })');
    return store;
  }

  /** The HAR is built whole before its head is sent, so a bad filter is still a 400 and not a cut download. */
  private har(res: ServerResponse, params: URLSearchParams): void {
    const parts: string[] = [];
    this.store().har(params, (t) => parts.push(t));
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.text(res, 200, 'application/json; charset=utf-8', parts.join(''), { 'Content-Disposition': `attachment; filename="kflog-${stamp}.har"` });
  }

  private text(res: ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' });
    res.end(text);
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

export type { ReplayAnswer, ReplayAsked };
